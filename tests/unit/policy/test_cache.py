"""The decision cache: a hit only when nothing the decision depends on has changed."""

from lamina.policy import DecisionCache, PolicySet

from .helpers import ALICE, QUEUE, allow, identity, request

SOURCE_IP = allow("sqs:SendMessage", QUEUE, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})


def test_hit_for_the_same_request():
    cache = DecisionCache()
    policies = PolicySet(identity=[identity(SOURCE_IP)])
    first = cache.evaluate(request(context_keys={"aws:SourceIp": "10.1.1.1"}), policies)
    second = cache.evaluate(request(context_keys={"aws:SourceIp": "10.1.1.1"}), policies)
    assert first.allowed and second is first
    assert (cache.hits, cache.misses) == (1, 1)


def test_referenced_key_is_part_of_the_key():
    cache = DecisionCache()
    policies = PolicySet(identity=[identity(SOURCE_IP)])
    assert cache.evaluate(request(context_keys={"aws:SourceIp": "10.1.1.1"}), policies).allowed
    assert not cache.evaluate(request(context_keys={"aws:SourceIp": "192.0.2.1"}), policies).allowed
    assert not cache.evaluate(request(), policies).allowed
    assert cache.misses == 3


def test_unreferenced_keys_do_not_split_the_cache():
    cache = DecisionCache()
    policies = PolicySet(identity=[identity(SOURCE_IP)])
    cache.evaluate(request(context_keys={"aws:SourceIp": "10.1.1.1", "aws:UserAgent": "a"}), policies)
    cache.evaluate(request(context_keys={"aws:SourceIp": "10.1.1.1", "aws:UserAgent": "b"}), policies)
    assert (cache.hits, cache.misses) == (1, 1)


def test_a_changed_policy_is_a_new_key():
    cache = DecisionCache()
    before = PolicySet(identity=[identity(allow("sqs:*"))])
    after = PolicySet(identity=[identity(allow("s3:*"))])
    assert cache.evaluate(request(), before).allowed
    assert not cache.evaluate(request(), after).allowed


def test_equal_policy_sets_share_entries():
    # A PolicySet rebuilt from the same parsed policies hits the same entries.
    cache = DecisionCache()
    policy = identity(allow("sqs:*"))
    cache.evaluate(request(), PolicySet(identity=[policy]))
    cache.evaluate(request(), PolicySet(identity=[policy]))
    assert cache.hits == 1


def test_variables_are_referenced_keys():
    cache = DecisionCache()
    policies = PolicySet(identity=[identity(allow("s3:*", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"))])
    red = request(action="s3:GetObject", resource="arn:aws:s3:::b/red/x", principal_tags={"team": "red"})
    blue = request(action="s3:GetObject", resource="arn:aws:s3:::b/red/x", principal_tags={"team": "blue"})
    assert cache.evaluate(red, policies).allowed
    assert not cache.evaluate(blue, policies).allowed


def test_bounded():
    cache = DecisionCache(maxsize=2)
    policies = PolicySet(identity=[identity(allow("sqs:*"))])
    for name in ("a", "b", "c"):
        cache.evaluate(request(principal=f"{ALICE}{name}"), policies)
    assert len(cache) == 2
