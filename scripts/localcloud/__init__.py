"""The local cloud: DRS simulator, local Lambda runtime and stack.

Tooling for drills, integration tests and benchmarks; never deployed.
"""
