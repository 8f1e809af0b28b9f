"""The functions of the SAM templates under a folder (examples/<app>/template.yaml).

Until SAM templates are expanded by aws-sam-translator (the CloudFormation issue), this
reads the AWS::Serverless::Function resources directly: FunctionName, CodeUri, Handler,
Runtime, MemorySize, Timeout, Environment, with the template's Globals.
"""

from __future__ import annotations

import os

import yaml


class _SamLoader(yaml.SafeLoader):
    """SafeLoader that tolerates CloudFormation's short-form tags (!Ref, !Sub, ...)."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_SamLoader.add_multi_constructor("!", _any_tag)


def example_functions(examples_dir: str) -> list[dict]:
    found = []
    if not os.path.isdir(examples_dir):
        return found
    for app in sorted(os.listdir(examples_dir)):
        template_path = os.path.join(examples_dir, app, "template.yaml")
        if not os.path.exists(template_path):
            continue
        with open(template_path) as handle:
            template = yaml.load(handle, Loader=_SamLoader) or {}
        globals_ = (template.get("Globals") or {}).get("Function") or {}
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            props = dict(globals_, **(resource.get("Properties") or {}))
            found.append(
                {
                    "name": props.get("FunctionName") or f"{app}-{logical_id}",
                    "directory": os.path.join(examples_dir, app, props.get("CodeUri") or "."),
                    "handler": props["Handler"],
                    "runtime": props.get("Runtime", "python3.12"),
                    "memory": props.get("MemorySize"),
                    "timeout": props.get("Timeout"),
                    "env": (props.get("Environment") or {}).get("Variables"),
                }
            )
    return found
