"""CRM source (Salesforce is the reference): a Data Export folder or the REST API -> ``raw_crm``.

Both ways in yield Arrow tables with one schema per object (``settings.OBJECTS``), merged on
``Id`` with an incremental cursor on ``SystemModstamp`` (history objects: ``CreatedDate``), so
they land in the same raw tables and a re-run loads only what changed; an export file
unchanged since it was last read (name, size, modification time) is not read again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from ingest import contracts, sources, stamps
from ingest.crm import settings
from ingest.crm.helpers import (
    CrmApiError,
    CrmAuthError,
    CrmError,
    CrmExportError,
    ObjectSpec,
    RetryPolicy,
    SalesforceClient,
    api_findings,
    build_soql,
    column_name,
    export_findings,
    find_export_file,
    logger,
    object_specs,
    parse_datetime,
    queryable_fields,
    read_export_file,
    records_to_arrow,
    select_specs,
)

__all__ = [
    "CrmApiError",
    "CrmAuthError",
    "CrmError",
    "CrmExportError",
    "contract_findings",
    "crm_source",
    "source_from_config",
]


def _resource_hints(spec: ObjectSpec) -> dict[str, Any]:
    return {
        "name": spec.table,
        "primary_key": column_name("Id"),
        "write_disposition": "merge",
        # when a record shows up twice in one load (changed while being paged), keep the newest
        "columns": {spec.cursor_column: {"dedup_sort": "desc"}},
    }


def _missing_object(spec: ObjectSpec, where: str) -> None:
    """A required object that is absent fails the source; an optional one lands empty."""
    if spec.required_object:
        raise CrmExportError(
            f"{where}: object {spec.name} is required; fix: export {spec.name} too"
        )
    logger.warning(
        "%s: table %s lands empty (degrades: %s)", where, spec.table, spec.degrades or "nothing"
    )


def _cursor(spec: ObjectSpec, start: datetime) -> dlt.sources.incremental[datetime]:
    return dlt.sources.incremental(spec.cursor_column, initial_value=start)


def _export_resource(spec: ObjectSpec, export_dir: Path, start: datetime) -> DltResource:
    # No initial value: dlt filters each table it is handed against the cursor's start, copying
    # every column even when every row is kept, as on a first load (0.3-0.4 s of the 1.5 s a
    # 1M-row Task.csv took to extract). The first load leaves out the rows before ``start`` here,
    # and copies only when there are some; later loads are filtered by dlt from the last value.
    incremental = dlt.sources.incremental(spec.cursor_column, initial_value=None)

    def rows(cursor: dlt.sources.incremental[datetime] = incremental) -> Iterator[pa.Table]:
        if not export_dir.is_dir():
            raise CrmExportError(f"{export_dir}: the CRM export folder does not exist")
        path = find_export_file(export_dir, spec)
        if path is None:
            _missing_object(spec, f"CRM export {export_dir} has no {spec.file_name}")
            yield spec.schema.empty_table()
            return
        # the file as it was when last read in full (kept only if the load commits): the same
        # file again holds nothing past the cursor, so it is not read again
        stat = path.stat()
        stamp = [path.name, stat.st_size, stat.st_mtime_ns, start.isoformat()]
        state = dlt.current.resource_state()
        if state.get("file") == stamp:
            return
        first = cursor.last_value is None  # read once: it moves as tables are yielded
        landed = False
        for table in read_export_file(path, spec):
            if first:
                table = _since(table, spec.cursor_column, start)
            if table.num_rows:
                landed = True
                yield table
        if not landed:
            # an object with no records still lands (empty), so models over it can run
            yield spec.schema.empty_table()
        state["file"] = stamp

    return dlt.resource(rows, **_resource_hints(spec))


def _since(table: pa.Table, column: str, start: datetime) -> pa.Table:
    """The rows of ``table`` whose ``column`` is at or after ``start`` (as dlt's cursor keeps
    them), ``table`` itself when that is every row."""
    values = table[column]
    bound = pa.scalar(start, values.type)
    if not table.num_rows or pc.min(values).as_py() >= bound.as_py():
        return table
    return table.filter(pc.greater_equal(values, bound))


def _api_resource(
    spec: ObjectSpec, client: SalesforceClient, start: datetime, include_deleted: bool
) -> DltResource:
    incremental = _cursor(spec, start)

    def rows(cursor: dlt.sources.incremental[datetime] = incremental) -> Iterator[pa.Table]:
        since = parse_datetime(cursor.last_value) if cursor.last_value is not None else None
        org_fields = client.describe_fields(spec.name)
        if org_fields is None:
            _missing_object(spec, f"Salesforce org {client.instance_url} has no {spec.name}")
            if since is None:
                yield spec.schema.empty_table()
            return
        fields = queryable_fields(spec, org_fields)
        soql = build_soql(spec, since, fields)
        landed = False
        for page in client.query(soql, include_deleted=include_deleted):
            landed = True
            yield records_to_arrow(page, spec)
        if not landed and since is None:
            yield spec.schema.empty_table()

    return dlt.resource(rows, **_resource_hints(spec))


@dlt.source(name="crm")
def crm_source(
    export_dir: str | None = None,
    instance_url: str | None = None,
    client_id: str | None = dlt.secrets.value,
    client_secret: str | None = dlt.secrets.value,
    username: str | None = dlt.secrets.value,
    password: str | None = dlt.secrets.value,
    token_url: str | None = None,
    objects: Sequence[str] | str | None = None,
    start_date: str | datetime = settings.START_DATE,
    api_version: str = settings.API_VERSION,
    batch_size: int = settings.QUERY_BATCH_SIZE,
    include_deleted: bool = True,
    retry_base_seconds: float = settings.RETRY_BASE_SECONDS,
    retry_max_seconds: float = settings.RETRY_MAX_SECONDS,
    retry_budget_seconds: float = settings.RETRY_BUDGET_SECONDS,
    fields: dict[str, str] | None = None,
) -> list[DltResource]:
    """Salesforce objects from an export folder (``export_dir``) or the REST API (``instance_url``).

    Args:
        export_dir: folder of a Salesforce Data Export / Data Loader export, one ``<Object>.csv``
            per object. A missing object file skips that table with a logged notice.
        instance_url: the org's URL (``https://<domain>.my.salesforce.com``) for the REST API.
        client_id, client_secret: the connected app's consumer key and secret (REST only;
            ``SOURCES__CRM__CLIENT_ID`` / ``SOURCES__CRM__CLIENT_SECRET``).
        username, password: for the username-password flow (password with the security token
            appended where the org requires it); without them the client-credentials flow is used.
        token_url: the OAuth token endpoint; default ``<instance_url>/services/oauth2/token``.
        objects: object names (``Lead``) or raw table names (``leads``); default all of
            ``settings.OBJECTS``.
        start_date: initial cursor value; records modified earlier are not loaded.
        include_deleted: REST only; use ``queryAll`` so deletions (``IsDeleted``) are loaded.
        fields: the org's names of fields that differ between orgs
            (``settings.CONFIGURABLE_FIELDS``), e.g. ``{"erp_customer_code": "AccountNumber"}``.
    """
    if bool(export_dir) == bool(instance_url):
        raise ValueError(
            "the CRM source needs exactly one of 'export_dir' (a Salesforce export folder) "
            "or 'instance_url' (the REST API)"
        )
    specs = select_specs(objects, object_specs(field_names=fields))
    start = parse_datetime(start_date)
    if export_dir:
        folder = Path(export_dir).expanduser()
        return [_export_resource(spec, folder, start) for spec in specs]
    missing = [n for n, v in (("CLIENT_ID", client_id), ("CLIENT_SECRET", client_secret)) if not v]
    if missing:
        raise CrmAuthError(
            "the Salesforce REST API needs "
            + " and ".join(f"SOURCES__CRM__{m}" for m in missing)
            + " (environment or ingest/.dlt/secrets.toml)"
        )
    client = SalesforceClient(
        instance_url=str(instance_url),
        client_id=str(client_id),
        client_secret=str(client_secret),
        username=username,
        password=password,
        token_url=token_url,
        api_version=api_version,
        batch_size=batch_size,
        retry=RetryPolicy(retry_base_seconds, retry_max_seconds, retry_budget_seconds),
    )
    return [_api_resource(spec, client, start, include_deleted) for spec in specs]


_CONFIG_KEYS = (
    "export_dir",
    "instance_url",
    "token_url",
    "objects",
    "start_date",
    "api_version",
    "batch_size",
    "include_deleted",
    "fields",
)


def source_from_config(section: dict[str, Any]) -> DltSource:
    """The CRM source from its run-configuration section: ``export_dir`` or ``instance_url``
    (+ optional ``objects``, ``start_date``, ``token_url``, ``api_version``, ``batch_size``).
    Secrets come from dlt (``SOURCES__CRM__CLIENT_ID`` ...), never from this section."""
    secrets = sorted(
        k for k in section if k in ("client_id", "client_secret", "username", "password")
    )
    if secrets:
        raise ValueError(
            f"the CRM section of the run configuration holds secrets ({', '.join(secrets)}); "
            "set them as SOURCES__CRM__<NAME> environment variables or in ingest/.dlt/secrets.toml"
        )
    kwargs = sources.arguments("CRM", section, _CONFIG_KEYS, ("export_dir",), logger)
    if isinstance(kwargs.get("start_date"), date):
        kwargs["start_date"] = kwargs["start_date"].isoformat()
    return crm_source(**kwargs)


def client_from_config(section: dict[str, Any]) -> SalesforceClient:
    """A REST client for the configured org, secrets from dlt (environment or secrets.toml)."""
    secrets = {
        k: dlt.secrets.get(f"sources.crm.{k}")
        for k in ("client_id", "client_secret", "username", "password")
    }
    missing = [k.upper() for k in ("client_id", "client_secret") if not secrets[k]]
    if missing:
        raise CrmAuthError(
            "the Salesforce REST API needs "
            + " and ".join(f"SOURCES__CRM__{m}" for m in missing)
            + " (environment or ingest/.dlt/secrets.toml)"
        )
    return SalesforceClient(
        instance_url=str(section["instance_url"]),
        client_id=str(secrets["client_id"]),
        client_secret=str(secrets["client_secret"]),
        username=secrets["username"],
        password=secrets["password"],
        token_url=section.get("token_url"),
        api_version=str(section.get("api_version") or settings.API_VERSION),
        retry=RetryPolicy(0.2, 2.0, 10.0),
    )


def stamp(section: dict[str, Any]) -> list[Any] | None:
    """What the CRM holds now (``ingest.stamps``). An export folder: each file's name, size and
    modification time, the same stamp that tells an export file read before. The REST API: per
    object read, its record count and newest cursor value (``SalesforceClient.change_stamp``,
    two requests and no page of records), deleted records counted when the load reads them
    (``include_deleted``)."""
    if section.get("export_dir"):
        folder = Path(section["export_dir"]).expanduser()
        if not folder.is_dir():
            return None  # the load says what is wrong
        return [stamps.settings(section, "export_dir"), stamps.file_stats(folder)]
    if not section.get("instance_url"):
        return None
    specs = select_specs(section.get("objects"), object_specs(field_names=section.get("fields")))
    client = client_from_config(section)
    deleted = bool(section.get("include_deleted", True))
    return [
        stamps.settings(section, "instance_url", "token_url"),
        {spec.name: client.change_stamp(spec, deleted) for spec in specs},
    ]


def contract_findings(section: dict[str, Any]) -> list:
    """What the configured export folder or org holds against the contract (nothing loads):
    from the files' header rows, or from each object's describe over the REST API."""
    specs = select_specs(section.get("objects"), object_specs(field_names=section.get("fields")))
    if section.get("export_dir"):
        folder = Path(section["export_dir"]).expanduser()
        if not folder.is_dir():
            raise CrmExportError(f"{folder}: the CRM export folder does not exist")
        return export_findings(folder, specs)
    return api_findings(client_from_config(section), specs)


def landed_objects(section: dict[str, Any]) -> list[contracts.LandedObject]:
    """Where each object's optional fields land (``contracts.empty_columns``): a field the export
    or org has but leaves blank in every row degrades its metric as if it were missing."""
    specs = select_specs(section.get("objects"), object_specs(field_names=section.get("fields")))
    return [
        contracts.LandedObject(
            spec.name,
            spec.table,
            {spec.source_name(f): (column_name(f), d) for f, d in spec.optional.items()},
        )
        for spec in specs
    ]
