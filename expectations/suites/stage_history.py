"""Stage history: every stage entered in order and with its evidence (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._common import expect_no_findings, flagged_records, keyed_suite

GUARDS = "fct_stage_history"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = ["stage_skip", "stage_without_evidence"]
QUERY = flagged_records(
    RULES,
    "opportunity_history",
    "fct_stage_history",
    "history",
    "stage_entry_id",
    [
        "history.opportunity_id",
        "history.stage",
        "history.skipped_from",
        "history.has_evidence",
        "history.entered_at",
        "history.exited_at",
        "coalesce(history.exited_at, history.entered_at) as changed_at",
        "(history.skipped_from is not null) <> (flags.stage_skip is not null) as skip_disagrees",
        "flags.stage_without_evidence is not null and history.has_evidence is distinct from false"
        " as evidence_disagrees",
    ],
)


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    suite = keyed_suite("stage_history", not_null=("opportunity_id", "stage", "entered_at"))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exited_at",
            column_B="entered_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    )
    # the mart's columns agree with the findings: these fail on a defect in the SQL, not on
    # anomalies in the data (a skip shown on the page but not flagged, or the reverse)
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="skip_disagrees", value_set=[False], meta={"rule": "stage_skip (mart agrees)"}
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="evidence_disagrees",
            value_set=[False],
            meta={"rule": "stage_without_evidence (mart agrees)"},
        )
    )
    expect_no_findings(suite, RULES)
    return suite
