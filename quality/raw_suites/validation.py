"""Running the suites: a GX session on a pandas datasource, each expectation's result translated into an
`ExpectationOutcome` (fail closed), chunk outcomes merged, and the public validate functions."""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingestion.contracts import DATASETS
from quality.raw_suites import passes
from quality.raw_suites.catalogue import CHECKS, ROW_ID_COLUMNS, RawCheck, build_suite
from quality.raw_suites.selection import CHUNK_ROWS, _frame, _plan_chunks, _select, _selection

DATA_DOCS_SITE = "settld_raw_quality"
MAX_EXAMPLES = 5
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": MAX_EXAMPLES,
    "unexpected_index_column_names": list(ROW_ID_COLUMNS),
}
# GX keeps some state process-wide (its active context): one validation at a time per process.
_GX_LOCK = threading.RLock()


# ---------------------------------------------------------------------------------------------------------
# Public results


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result on one batch of raw rows."""

    check_id: str
    dataset: str
    expectation_type: str
    blocking: bool
    success: bool
    evaluated_rows: int
    unexpected_count: int
    details: dict  # JSON-serializable and small: a few unexpected examples, or the error


@dataclass(frozen=True)
class SuiteOutcome:
    """A dataset's suite on the rows of one period and tenant (or the whole table)."""

    dataset: str
    success: bool
    evaluated_rows: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def blocking_failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if o.blocking and not o.success)


# ---------------------------------------------------------------------------------------------------------
# Running the suites


class _Session:
    """One ephemeral GX context: a pandas datasource, the suites, and optionally a Data Docs site. The
    context is made on the first validation: a daily run with no new row never makes one."""

    def __init__(self, data_docs_dir: Path | None = None, run_time: datetime | None = None) -> None:
        self.definitions: dict[str, Any] = {}
        self.data_docs_dir = data_docs_dir
        # Data Docs name each validation's page by its run time: the build's as-of, not the clock, so
        # the same gate writes the same pages (docs/DECISIONLOG.md, "Reproducible artifacts").
        self.run_time = run_time
        self._context = None

    @property
    def context(self):
        if self._context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            self.gx = gx
            self._context = gx.get_context(mode="ephemeral")
            self._context.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            self.source = self._context.data_sources.add_pandas("raw")
            if self.data_docs_dir is not None:
                self._context.add_data_docs_site(
                    DATA_DOCS_SITE,
                    {
                        "class_name": "SiteBuilder",
                        "store_backend": {
                            "class_name": "TupleFilesystemStoreBackend",
                            "base_directory": str(self.data_docs_dir),
                        },
                        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    },
                )
        return self._context

    def validate(self, dataset: str, frame, run_name: str):
        """Validate one DataFrame (a whole-dataframe batch) against the dataset's suite."""
        from great_expectations.core.run_identifier import RunIdentifier

        definition = self.definitions.get(dataset)
        if definition is None:
            context = self.context
            batch = self.source.add_dataframe_asset(name=dataset).add_batch_definition_whole_dataframe(
                "whole_dataframe"
            )
            suite = context.suites.add(build_suite(dataset))
            definition = context.validation_definitions.add(
                self.gx.ValidationDefinition(name=f"raw.{dataset}", data=batch, suite=suite)
            )
            self.definitions[dataset] = definition
        return definition.run(
            batch_parameters={"dataframe": frame},
            result_format=RESULT_FORMAT,
            run_id=RunIdentifier(run_name=run_name, run_time=self.run_time or datetime.now(UTC)),
        )

    def build_data_docs(self) -> Path:
        from quality.data_docs_offline import localise_site

        self.context.build_data_docs(site_names=[DATA_DOCS_SITE])
        index = self.data_docs_dir / "index.html" if self.data_docs_dir else None
        if index is None or not index.is_file():
            raise RuntimeError(f"GX built no Data Docs index in {self.data_docs_dir}")
        # GX's pages load their CSS and JS from CDNs: point them at vendored copies, so they render offline.
        localise_site(self.data_docs_dir)
        return index


def _run_name(period: str | None, tenant_id: str | None, part: int = 1, parts: int = 1) -> str:
    # Part of the Data Docs page path: no spaces.
    name = f"{period or 'all-periods'}__{tenant_id or 'all-tenants'}"
    return name if parts == 1 else f"{name}__chunk-{part}-of-{parts}"


def _validate(
    session: _Session,
    warehouse,
    dataset: str,
    period: str | None,
    tenant_id: str | None,
    not_yet_passed: bool = False,
) -> SuiteOutcome:
    conditions, params = _selection(
        dataset, period, tenant_id, not_yet_passed
    )  # a bad period: caller's error
    try:
        chunks, planned = _plan_chunks(warehouse, dataset, conditions, params, CHUNK_ROWS)
    except Exception as error:  # fail closed: rows that cannot be read pass nothing
        return _failed_closed(dataset, 0, f"cannot read raw.{dataset}: {type(error).__name__}: {error}")
    if not_yet_passed and not planned:  # the daily run, no new row: nothing was validated, all passes
        return nothing_to_validate(dataset)
    parts: list[tuple[ExpectationOutcome, ...]] = []
    seen = 0
    # No rows: GX still validates an empty frame, so the outcome and the Data Docs come from GX.
    for index, chunk in enumerate(chunks or [None], start=1):
        chunk_conditions = conditions + ([chunk.condition] if chunk else [])
        chunk_params = params + (list(chunk.params) if chunk else [])
        try:
            rows = warehouse.query(_select(dataset, chunk_conditions), chunk_params)
        except Exception as error:
            return _failed_closed(
                dataset, seen, f"cannot read raw.{dataset}: {type(error).__name__}: {error}"
            )
        seen += len(rows)
        try:
            frame = _frame(dataset, rows)
            del rows
            result = session.validate(dataset, frame, _run_name(period, tenant_id, index, len(chunks)))
        except Exception as error:
            return _failed_closed(dataset, seen, f"validation raised {type(error).__name__}: {error}")
        parts.append(_chunk_outcomes(dataset, len(frame), result))
    if seen != planned:
        return _failed_closed(
            dataset, seen, f"raw.{dataset} changed while it was validated ({planned} rows, then {seen})"
        )
    outcomes = tuple(_merge(list(same)) for same in zip(*parts, strict=True))
    return SuiteOutcome(dataset, all(o.success for o in outcomes), seen, outcomes)


def nothing_to_validate(dataset: str) -> SuiteOutcome:
    """The outcome of a suite on no row: every expectation passes having evaluated nothing, as GX
    reports for an empty frame (tests/test_quality.py compares the two for every dataset)."""
    outcomes = tuple(
        ExpectationOutcome(c.check_id, dataset, c.expectation_type, c.blocking, True, 0, 0, {})
        for c in CHECKS[dataset]
    )
    return SuiteOutcome(dataset, True, 0, outcomes)


def _failed_closed(dataset: str, rows: int, error: str) -> SuiteOutcome:
    outcomes = tuple(
        ExpectationOutcome(c.check_id, dataset, c.expectation_type, c.blocking, False, 0, 0, {"error": error})
        for c in CHECKS[dataset]
    )
    return SuiteOutcome(dataset, False, rows, outcomes)


def _chunk_outcomes(dataset: str, rows: int, result) -> tuple[ExpectationOutcome, ...]:
    by_id = {}
    for item in result.results:
        by_id.setdefault((item.expectation_config.meta or {}).get("check_id"), item)
    return tuple(_outcome(check, rows, by_id.get(check.check_id)) for check in CHECKS[dataset])


def _merge(parts: list[ExpectationOutcome]) -> ExpectationOutcome:
    """One expectation's outcome over all chunks."""
    first = parts[0]
    evaluated = sum(p.evaluated_rows for p in parts)
    unexpected = sum(p.unexpected_count for p in parts)
    details: dict[str, Any] = {}
    examples = [e for p in parts for e in p.details.get("unexpected_examples", [])]
    if examples:
        details["unexpected_examples"] = examples[:MAX_EXAMPLES]
    if unexpected and evaluated:
        details["unexpected_percent"] = round(100 * unexpected / evaluated, 4)
    errors = [p.details["error"] for p in parts if "error" in p.details]
    if errors:
        details["error"] = errors[0]
    if len(parts) > 1:
        details["chunks"] = len(parts)
    success = all(p.success for p in parts)
    return ExpectationOutcome(first.check_id, first.dataset, first.expectation_type, first.blocking,
                              success, evaluated, unexpected, details)  # fmt: skip


def _outcome(check: RawCheck, rows: int, item) -> ExpectationOutcome:
    def failed(error: str, evaluated: int = 0, unexpected: int = 0) -> ExpectationOutcome:
        return ExpectationOutcome(check.check_id, check.dataset, check.expectation_type, check.blocking,
                                  False, evaluated, unexpected, {"error": error})  # fmt: skip

    if item is None:
        return failed("GX returned no result for this expectation")
    error = _exception_message(item.exception_info)
    if error is not None:
        return failed(f"the expectation raised: {error}")
    result = dict(item.result or {})
    element_count = result.get("element_count")
    unexpected = result.get("unexpected_count")
    if not isinstance(element_count, int) or not isinstance(unexpected, int):
        return failed("GX reported no element or unexpected count: nothing was evaluated")
    # A row condition narrows the rows judged; otherwise every row handed over must have been seen.
    if element_count > rows or (check.condition is None and element_count != rows):
        return failed(f"GX evaluated {element_count} of {rows} rows", element_count, unexpected)
    success = item.success is True and unexpected == 0
    evaluated = element_count - int(result.get("missing_count") or 0)
    details: dict[str, Any] = {}
    if unexpected:
        examples = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list") or []
        details["unexpected_examples"] = _jsonable(list(examples)[:MAX_EXAMPLES])
    if not success and not unexpected:
        details["error"] = "GX reported failure without unexpected rows"
    return ExpectationOutcome(check.check_id, check.dataset, check.expectation_type, check.blocking,
                              success, evaluated, unexpected, details)  # fmt: skip


def _exception_message(info: Any) -> str | None:
    """The first raised exception in a GX exception_info (flat, or keyed by metric)."""
    if not isinstance(info, Mapping):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message") or "unknown error") if info["raised_exception"] else None
    for value in info.values():
        message = _exception_message(value)
        if message is not None:
            return message
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _jsonable(item())
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Public API


def validate_raw(
    warehouse,
    dataset: str,
    *,
    period: str | None = None,
    tenant_id: str | None = None,
) -> SuiteOutcome:
    """Validate `raw.<dataset>` (the rows of `period` and `tenant_id` when given; all rows otherwise)."""
    with _GX_LOCK:
        return _validate(_Session(), warehouse, dataset, period, tenant_id)


def validate_all(
    warehouse,
    *,
    period: str | None = None,
    tenant_id: str | None = None,
    datasets: list[str] | None = None,
) -> dict[str, SuiteOutcome]:
    """Every raw dataset's suite (or those of `datasets`), each validated once, in one GX context (a
    context costs about as much as validating a small table)."""
    with _GX_LOCK:
        session = _Session()
        return {name: _validate(session, warehouse, name, period, tenant_id) for name in _names(datasets)}


def _names(datasets: list[str] | None) -> list[str]:
    """The raw datasets among `datasets` (all when None), in the contracts' order."""
    return [name for name in DATASETS if datasets is None or name in datasets]


def validate_files_not_yet_passed(warehouse, *, datasets: list[str] | None = None) -> dict[str, SuiteOutcome]:
    """The daily run's raw suites: each dataset's rows of loaded files without a pass (and rows no loaded
    file accounts for), in one GX context; a clean suite records a pass for each of those files
    (passes.py). `warehouse` must be writable."""
    passes.ensure_table(warehouse)
    with _GX_LOCK:
        session = _Session()
        outcomes = {}
        for name in _names(datasets):
            pending = passes.pending_files(warehouse, name)  # before: what the validation selects
            outcomes[name] = _validate(session, warehouse, name, None, None, not_yet_passed=True)
            if pending and passes.is_clean(outcomes[name].outcomes):
                passes.record_passes(warehouse, name, pending)
        return outcomes


def validate_all_with_data_docs(
    directory: Path, *, warehouse, period: str | None = None, tenant_id: str | None = None
) -> tuple[dict[str, SuiteOutcome], Path]:
    """`validate_all` and the GX Data Docs of that validation in `directory`, in one pass."""
    directory = Path(directory).expanduser().resolve()
    with _GX_LOCK:
        directory.mkdir(parents=True, exist_ok=True)
        # GX owns these folders of the site; pages of earlier validations would linger unlinked.
        for owned in ("expectations", "validations"):
            shutil.rmtree(directory / owned, ignore_errors=True)
        from quality.dbt_results import build_as_of

        as_of = build_as_of(warehouse)
        session = _Session(data_docs_dir=directory, run_time=as_of and as_of.replace(tzinfo=UTC))
        outcomes = {name: _validate(session, warehouse, name, period, tenant_id) for name in DATASETS}
        return outcomes, session.build_data_docs()


def write_data_docs(
    directory: Path, *, period: str | None = None, tenant_id: str | None = None, warehouse
) -> Path:
    """Validate every raw dataset and build GX's HTML Data Docs in `directory`; returns index.html."""
    return validate_all_with_data_docs(directory, warehouse=warehouse, period=period, tenant_id=tenant_id)[1]
