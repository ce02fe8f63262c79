"""shared.name_claims: claim keys and recognising claim items."""

from shared.name_claims import claim_key, is_name_claim, without_claims


def test_claim_key_is_the_trimmed_lower_name_per_kind():
    # When claim keys are built for names differing in case and spaces
    keys = {claim_key("group", n) for n in ("Web ", " web", "WEB")}
    # Then they are one key, distinct from another kind's
    assert keys == {"name#group#web"}
    assert claim_key("plan", "Web") == "name#plan#web"


def test_claim_items_are_recognised_and_left_out():
    # Given claims and items of the groups and plans tables
    items = [
        {"groupId": claim_key("group", "a"), "claimOwner": "g1"},
        {"groupId": "g1", "groupName": "a"},
        {"planId": claim_key("plan", "p"), "claimOwner": "p1"},
        {"planId": "p1", "planName": "p"},
    ]
    # When the claims are left out
    kept = without_claims(items)
    # Then only the items remain
    assert kept == [items[1], items[3]]
    assert [is_name_claim(i) for i in items] == [True, False, True, False]
