"""Deploying what people already have onto a Lamina server, as a client of its AWS APIs:
a folder as a function (function.py), the functions of a SAM template (sam.py). Used by
`lamina deploy-function` and `lamina up`; the CloudFormation and SAM deployment of a later
issue lives here too."""
