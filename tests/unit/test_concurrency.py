"""The concurrency pools, without a server: reservations, provisioned carve-outs, and one
pool per account and region. The same rules through the API are in
tests/integration/test_concurrency.py and test_provisioned.py."""

import pytest

from lamina.engine.concurrency import ACCOUNT_LIMIT, RESERVED_LIMIT, Concurrency, Throttled


def arn(name: str, account: str = "000000000000", region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def fill(concurrency: Concurrency, function_arn: str, count: int) -> list:
    return [concurrency.acquire(function_arn) for _ in range(count)]


def test_a_reservation_caps_the_function_and_is_carved_out_of_the_shared_pool():
    c = Concurrency(account_limit=10, min_unreserved=2)
    c.set_reserved(arn("r"), 3)
    assert c.unreserved_limit(("us-east-1", "000000000000")) == 7
    fill(c, arn("r"), 3)
    with pytest.raises(Throttled) as excinfo:
        c.acquire(arn("r"))
    assert excinfo.value.reason == RESERVED_LIMIT
    fill(c, arn("a"), 7)  # the reservation's three do not come out of the others' seven
    with pytest.raises(Throttled) as excinfo:
        c.acquire(arn("b"))
    assert excinfo.value.reason == ACCOUNT_LIMIT


def test_provisioned_concurrency_is_the_version_own_on_top_of_the_shared_pool():
    c = Concurrency(account_limit=10, min_unreserved=2)
    c.set_provisioned(arn("p"), {"1": 2})
    assert c.unreserved_limit(("us-east-1", "000000000000")) == 8
    fill(c, arn("other"), 8)  # the shared pool is exhausted ...
    leases = [c.acquire(arn("p"), "1") for _ in range(2)]  # ... and version 1 still runs its two
    with pytest.raises(Throttled):
        c.acquire(arn("p"), "1")  # beyond them it needs the shared pool, which is full
    with pytest.raises(Throttled):
        c.acquire(arn("p"), "$LATEST")  # another version has no share of its own
    c.release(leases[0])
    c.acquire(arn("p"), "1")  # its carved-out share is free again
    assert c.can_provision(arn("p"), 8) and not c.can_provision(arn("p"), 9)
    assert not c.can_reserve(arn("other"), 7)  # 10 - 2 provisioned - 7 < 2


def test_other_versions_do_not_use_up_a_version_provisioned_share():
    c = Concurrency(account_limit=10, min_unreserved=2)
    c.set_provisioned(arn("p"), {"1": 3})
    fill(c, arn("p"), 3)  # unqualified traffic of the same function: from the shared pool
    fill(c, arn("other"), 4)  # the shared pool (7) is now full
    for _ in range(3):
        c.acquire(arn("p"), "1")  # the provisioned version's three are still there
    c.set_provisioned(arn("p"), {})
    assert c.unreserved_limit(("us-east-1", "000000000000")) == 10


def test_a_reserved_function_provisioned_concurrency_is_part_of_its_reservation():
    c = Concurrency(account_limit=10, min_unreserved=2)
    c.set_reserved(arn("r"), 4)
    c.set_provisioned(arn("r"), {"1": 2})
    assert c.unreserved_limit(("us-east-1", "000000000000")) == 6


def test_every_account_and_region_has_a_pool_of_its_own():
    c = Concurrency(account_limit=5, min_unreserved=1)
    c.set_reserved(arn("r", account="111111111111"), 4)
    assert c.unreserved_limit(("us-east-1", "111111111111")) == 1
    assert c.unreserved_limit(("us-east-1", "000000000000")) == 5
    fill(c, arn("a"), 5)
    fill(c, arn("a", region="eu-west-1"), 5)  # another region: not the same pool
    with pytest.raises(Throttled):
        c.acquire(arn("b"))
    assert c.can_reserve(arn("x"), 4)  # this account's reservations leave the other alone
    assert c.unreserved_in_flight_by_scope() == {("us-east-1", "000000000000"): 5, ("eu-west-1", "000000000000"): 5}
