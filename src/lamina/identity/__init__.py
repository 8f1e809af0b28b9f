"""Who a request is from: principals, access keys and temporary credentials.

The gateway resolves every signed request's access key through the KeyRing (keyring.py)
to a secret (to check the signature with) and a Principal (principals.py). Root keys come
from the settings, IAM users' keys from the IAM service (a callable the composition root
hands the ring), and temporary credentials (ASIA... keys) from their session tokens, which
carry their own claims, sealed with the server's key (tokens.py), so issuing them writes
nothing and they survive a restart.
"""
