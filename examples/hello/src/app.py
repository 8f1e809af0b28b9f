"""The example function: greets `name` from the event, and says where it ran."""
import os


def handler(event, context):
    name = (event or {}).get("name", "world")
    greeting = os.environ.get("GREETING", "Hello")
    print(f"greeting {name} (request {context.aws_request_id})")
    return {
        "message": f"{greeting}, {name}!",
        "function": context.function_name,
        "version": context.function_version,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
