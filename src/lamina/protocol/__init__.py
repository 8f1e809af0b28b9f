"""The AWS wire protocols, driven by botocore's service models.

router.py finds the service and operation of a request, parsers.py turns the request into
the operation's input dict, serializers.py turns a result or a ServiceError into bytes on
the wire, sigv4.py checks who is asking. Nothing here knows any one operation.
"""
