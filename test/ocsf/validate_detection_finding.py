"""Validates OCSF Detection Findings with pydantic-ocsf's models (docs/normalization.md).

Reads one JSON document per line on stdin and prints, per line, a JSON list of problems (empty
when the document is a valid Detection Finding). pydantic-ocsf checks types, enums, required
attributes, class/category/type uids and sibling captions; its models allow attributes the
schema does not define, so this also reports those (anywhere but inside free-form objects such as
`unmapped`), since a misspelled attribute would otherwise pass unseen.
"""

import json
import sys

from pydantic import BaseModel, ValidationError

from ocsf.v1_7_0.events import DetectionFinding
from ocsf.v1_7_0.objects import Object


def undefined_attributes(model: BaseModel, path: str) -> list[str]:
    # Every OCSF object extends `object`; only `object` itself is free-form.
    if type(model) is Object:
        return []
    found = [f"{path}.{key}: not an attribute of {type(model).__name__}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        found += undefined_in(getattr(model, name), f"{path}.{name}")
    return found


def undefined_in(value: object, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return undefined_attributes(value, path)
    if isinstance(value, list):
        return [problem for index, item in enumerate(value) for problem in undefined_in(item, f"{path}[{index}]")]
    return []


def problems(line: str) -> list[str]:
    try:
        finding = DetectionFinding.model_validate_json(line)
    except ValidationError as error:
        return [f"{'.'.join(str(part) for part in item['loc']) or '/'}: {item['msg']}" for item in error.errors()]
    return undefined_attributes(finding, "$")


for document in sys.stdin:
    if document.strip():
        print(json.dumps(problems(document)), flush=True)
