"""Authorization on the request path: which IAM action and resource each call is, and
whether its principal may do it (the policy package decides; this package asks it).

    actions.py     an operation's IAM action (lambda:InvokeFunction for Invoke, ...)
    resources.py   the resource ARN an operation acts on, from its parameters
    authorizer.py  Authorizer: the principal's policies, the decision (cached), AWS's denial
    s3.py          S3: each operation's actions on its bucket or object, the bucket owner's
                   policy, anonymous callers, Block Public Access

Called by the gateway for every AWS call that a principal other than its account's root
makes (root is allowed everything in its own account, as on AWS, and pays nothing; S3's
calls are looked at by s3.py first: a root on another account's bucket, or on one with a
policy, is decided too).
"""
