"""lamina.policy is a pure package (docs/architecture.md, the layering table): standard library
and its own modules only, nothing else of Lamina."""

import ast
import pathlib
import sys

import lamina.policy

PACKAGE = pathlib.Path(lamina.policy.__file__).parent


def test_imports_only_the_standard_library_and_itself():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                continue  # its own modules
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {name}"
