"""Scenarios generated in memory (fixed seed: two runs agree)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

HUB = "123456789012"
REGION = "us-east-1"
SEED = 11
# Simulated seconds, shorter than the sample scenario's so a bench at a
# low simulation speed finishes in minutes; still seeded jitter.
FAST_DURATIONS = {
    "start": [5, 15],
    "snapshot": [20, 40],
    "conversion": [30, 60],
    "launch": [30, 60],
    "terminate": [10, 20],
}
# One /16 subnet: room for 65,000 source servers (moto's default subnets
# are /20, about 4,000 addresses: too few for the 5,000-server case).
NETWORK = {
    "vpc_cidr": "10.50.0.0/16",
    "subnets": [{"name": "bench", "cidr": "10.50.0.0/16"}],
}


def tier_tag(index: int) -> str:
    """The ``Tier`` tag value of generated tier ``index`` (1-based)."""
    return f"tier{index:02d}"


def scenario_dict(
    tier_sizes: Sequence[int],
    durations: Optional[Dict[str, Any]] = None,
    seed: int = SEED,
    extra_untagged: int = 0,
) -> Dict[str, Any]:
    """A one-account scenario: tier ``i`` has ``tier_sizes[i-1]`` servers
    tagged ``{Tier: tierNN, Bench: "yes"}``; ``extra_untagged`` more
    servers carry ``{Bench: "no"}`` (noise for tag discovery)."""
    servers: List[Dict[str, Any]] = [
        {
            "hostname": f"{tier_tag(i)}-{{i:04d}}",
            "count": size,
            "tags": {"Tier": tier_tag(i), "Bench": "yes"},
        }
        for i, size in enumerate(tier_sizes, start=1)
        if size > 0
    ]
    if extra_untagged:
        servers.append(
            {
                "hostname": "noise-{i:05d}",
                "count": extra_untagged,
                "tags": {"Tier": "none", "Bench": "no"},
            }
        )
    return {
        "seed": seed,
        "durations": dict(durations or FAST_DURATIONS),
        "accounts": [
            {
                "id": HUB,
                "name": "hub",
                "role": "hub",
                "regions": {
                    REGION: {"source_servers": servers, "network": NETWORK}
                },
            }
        ],
    }


def plan_definition(name: str, waves: int) -> Dict[str, Any]:
    """A drill definition (``localcloud.drill.plan_setup`` format): one
    tag-selected protection group per tier, wave ``i`` = tier ``i``."""
    groups = [
        {
            "key": tier_tag(i),
            "groupName": f"bench-{tier_tag(i)}",
            "region": REGION,
            "serverSelectionTags": {"Tier": tier_tag(i)},
        }
        for i in range(1, waves + 1)
    ]
    return {
        "protectionGroups": groups,
        "planName": name,
        "waves": [
            {"waveName": f"Wave {i}", "protectionGroup": tier_tag(i)}
            for i in range(1, waves + 1)
        ],
    }
