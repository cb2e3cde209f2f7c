"""Rule matching: the query language of SPEC section 3 and a compiled matcher.

    rules = compile_rules([("s300", '"S-300" AND Iran')])
    for match in rules.match(Document(title, summary, body)):
        ...  # match.rule_id, match.spans (offsets into the original fields)

`rules.match(doc, spans=False)` only finds which rules match, not where, for
when nothing will be highlighted; `only=` limits matching to some rules.

`reference.reference_match` is a deliberately plain evaluator of the same
language, kept to test the compiled matcher against.
"""

from worker.match.compile import RuleSet, compile_rules, match_query
from worker.match.document import FIELDS, Document, matched_terms, span_text
from worker.match.query import Query, parse_query

__all__ = [
    "FIELDS",
    "Document",
    "Query",
    "RuleSet",
    "compile_rules",
    "match_query",
    "matched_terms",
    "parse_query",
    "span_text",
]
