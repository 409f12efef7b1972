"""Fuzzing: schemathesis generates requests for every operation of /openapi.json
(valid ones and, per parameter, invalid ones) and sends them to the Falcon app
in-process. Every check runs: no 5xx, documented status codes, content types,
headers and bodies, invalid input refused, valid input accepted.

Bounded: 30 examples per operation (``FUZZ_EXAMPLES``), no shrinking deadline
problems, no network. Hypothesis keeps failing examples in ``.hypothesis/``.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from search_api import openapi
from search_api.config import Config

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

# The document as the app serves it with the default config (test_openapi.py
# checks that the served one is built the same way).
LIMITS = Config()
schema = schemathesis.openapi.from_dict(openapi.build(LIMITS))
schema.config.update(base_url="http://localhost")


def _cross_parameter_refusal(case, response) -> bool:
    """Refusals that no per-parameter schema can express: each value is valid,
    the combination is not (page × per_page past the depth; from after to)."""
    if response.status_code != 400:
        return False
    body = response.json()
    if body.get("code") == "page_too_deep":
        return True
    query = case.query or {}
    return (
        body.get("param") == "from"
        and bool(query.get("from"))
        and bool(query.get("to"))
        and str(query["from"]) > str(query["to"])
    )


# Parameters that take any text: a "negative" value schemathesis makes for them
# (null, a number, an object) reaches the API as a string, which is valid.
FREE_TEXT = {"q", "category", "site", "doc_id", "file"}


def _blank(case, name: str) -> bool:
    values = (case.query or {}).get(name)
    values = values if isinstance(values, list) else [values]
    return all(isinstance(v, str) and not v.strip() for v in values)


def _wire_valid(mutation, case) -> bool:
    if _blank(case, mutation.parameter):
        # The document says allowEmptyValue: a blank value (year=, as HTML forms
        # send) counts as absent; schemathesis does not read that keyword.
        return True
    if mutation.parameter not in FREE_TEXT or "maxLength" in mutation.keywords:
        return False
    if "maxItems" in mutation.keywords:
        # Blank values count as absent: only the others count toward the limit.
        values = (case.query or {}).get(mutation.parameter)
        values = values if isinstance(values, list) else [values]
        return sum(1 for v in values if str(v).strip()) <= LIMITS.max_filter_values
    return True


def _negative_only_on_the_wire_valid(case) -> bool:
    """Every mutation of this negative case hits a free-text parameter, and
    none breaks a length or count limit (those must still be refused)."""
    mutations = getattr(getattr(case.meta, "phase", None), "data", None)
    mutations = getattr(mutations, "mutations", None) or ()
    return bool(mutations) and all(_wire_valid(m, case) for m in mutations)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_document(case, client):
    case.operation.schema.app = client.app  # the WSGI transport: no network
    # The WSGI test client does not undo gzip (tested in test_portal_api.py).
    headers = {"Accept-Encoding": "identity"}
    response = case.call(app=client.app, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    excluded = []
    if response.status_code == 414:
        # The URL length limit is not in any parameter's schema: a refusal either way.
        excluded += [positive_data_acceptance, negative_data_rejection]
    if _cross_parameter_refusal(case, response):
        excluded.append(positive_data_acceptance)
    if response.status_code < 300 and _negative_only_on_the_wire_valid(case):
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded, headers=headers)
