"""schemathesis hooks for scripts/api-contract.sh.

A "schema-valid request rejected" failure is dropped only when the server's problem detail
shows a rule that JSON Schema in an OpenAPI document cannot state: one that spans several
parameters, depends on server state, or needs a password estimator. Every such rule is
written in the operation's description instead. Each entry says which rule and why; anything
else still fails the run.
"""

import json
import re

import schemathesis

# (status, operations or None for any, regex the problem detail starts with, why the document
# cannot state the rule)
EXPLAINED = [
    (400, None, "give days or limit, not both",
     "`days` and `limit` are two names for one value: a rule across two parameters"),
    (400, None, r"from \(",
     "`from` after `to`: a rule across two parameters"),
    (400, None, "cursor is not one this list",
     "a cursor is opaque: only a `next_cursor` the list gave out is valid, which no schema can "
     "generate"),
    (422, None, r"invalid body: .*invalid type: floating point `-?\d+\.0`, expected [ui]\d+",
     "JSON Schema counts 5.0 as an integer; the server reads integer fields from integer "
     "literals only (`5`), and says so"),
    (422, None, "password:",
     "password strength (zxcvbn estimate, not only spaces, not the email): its length is in "
     "the schema, its guessability is not"),
    (422, {"POST /v1/me/channels", "PUT /v1/me/channels/{id}"}, "url: ",
     "a webhook must point at a public address (the SSRF guard resolves the host); its scheme "
     "and shape are in the schema"),
    (400, {"GET /v1/stocks/{symbol}/indicators"}, "series `",
     "an indicator's parameter ranges depend on the indicator and the parameter's place, and "
     "MACD needs fast < slow: the pattern gives the names and the shape, the catalogue "
     "(`GET /v1/indicators`) the ranges"),
    (422, None, "symbol: ",
     "whether a ticker exists is the providers' knowledge (checked before it is watched or "
     "tracked); its shape is in the schema"),
    (422, {"POST /v1/alerts", "PUT /v1/alerts/{id}", "POST /v1/alerts/backtest"}, "",
     "which fields a rule takes, and in what range, depends on its `kind` (and a symbol's "
     "existence on the providers): the schema lists every field of every kind, with the rules "
     "in their descriptions"),
]


def _detail(response):
    try:
        return json.loads(response.content).get("detail", "")
    except (ValueError, AttributeError):
        return ""


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    detail = _detail(response)
    label = case.operation.label
    for status, operations, pattern, _why in EXPLAINED:
        if (
            response.status_code == status
            and (operations is None or label in operations)
            and re.match(pattern, detail)
        ):
            return False
    return True
