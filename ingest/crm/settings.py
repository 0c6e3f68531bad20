"""Salesforce objects the CRM source reads, and the source's defaults.

``OBJECTS`` is the one field list (docs/sources.md): Salesforce object -> raw table, fields
(API name -> Salesforce field type), incremental cursor, and the fields an export file must
have (``Id`` and the cursor always are). The demo generator writes exactly these fields.

Field types are Salesforce's describe types; they decide how a raw column lands:
datetime -> timestamp (UTC), date -> date, boolean -> bool, currency -> decimal(18,2),
double/percent -> double, integer -> bigint, everything else (id, reference, string, picklist,
textarea, phone, email, url) -> text.
"""

from __future__ import annotations

from typing import Any

_AUDIT = {
    "IsDeleted": "boolean",
    "CreatedDate": "datetime",
    "CreatedById": "reference",
    "LastModifiedDate": "datetime",
    "SystemModstamp": "datetime",
}

# the fields Task and Event share (Salesforce's Activity object)
_ACTIVITY = {
    "WhoId": "reference",
    "WhatId": "reference",
    "OwnerId": "reference",
    "Subject": "string",
    "Description": "textarea",
}

OBJECTS: dict[str, dict[str, Any]] = {
    "User": {
        "degrades": "owner names in LeadHistory cannot resolve to users",
        "optional": {"Name": "owner names in LeadHistory cannot resolve to users"},
        "table": "users",
        "cursor": "SystemModstamp",
        "fields": {
            "Id": "id",
            "Name": "string",
            "Username": "string",
            "Email": "email",
            "ManagerId": "reference",
            "IsActive": "boolean",
            "CreatedDate": "datetime",
            "LastModifiedDate": "datetime",
            "SystemModstamp": "datetime",
        },
    },
    "Lead": {
        "required_object": True,
        "optional": {
            "LeadSource": "conversion by lead source",
            "IsConverted": "lead conversion",
            "MobilePhone": "WeCom messages as lead touches",
            "Landing_Page__c": "lead score points by landing page",
        },
        "table": "leads",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "CreatedDate"],
        "fields": {
            "Id": "id",
            "OwnerId": "reference",
            "LastName": "string",
            "FirstName": "string",
            "Name": "string",
            "Company": "string",
            "Title": "string",
            "Phone": "phone",
            "MobilePhone": "phone",
            "Email": "email",
            "LeadSource": "picklist",
            "Status": "picklist",
            "Industry": "picklist",
            "State": "string",
            "City": "string",
            "IsConverted": "boolean",
            "ConvertedDate": "date",
            "ConvertedAccountId": "reference",
            "ConvertedContactId": "reference",
            "ConvertedOpportunityId": "reference",
            "Landing_Page__c": "string",
            **_AUDIT,
        },
    },
    "LeadHistory": {
        "degrades": "assignment time: a lead routed through a queue counts as assigned when "
        "created",
        "table": "lead_history",
        "cursor": "CreatedDate",
        "required": ["LeadId", "Field"],
        "optional": {
            "OldValue": "lead assignment time",
            "NewValue": "lead assignment time",
        },
        "fields": {
            "Id": "id",
            "LeadId": "reference",
            "Field": "picklist",
            "OldValue": "string",
            "NewValue": "string",
            "CreatedById": "reference",
            "CreatedDate": "datetime",
            "IsDeleted": "boolean",
        },
    },
    "Account": {
        "degrades": "customers and their match to U8",
        "optional": {
            "Name": "matching accounts to U8 by company name",
            "ERP_Customer_Code__c": "matching accounts to U8 by code (by company name only)",
        },
        "table": "accounts",
        "cursor": "SystemModstamp",
        "fields": {
            "Id": "id",
            "Name": "string",
            "OwnerId": "reference",
            "Industry": "picklist",
            "Type": "picklist",
            "BillingState": "string",
            "BillingCity": "string",
            "Phone": "phone",
            "ERP_Customer_Code__c": "string",
            "IsDeleted": "boolean",
            "CreatedDate": "datetime",
            "LastModifiedDate": "datetime",
            "SystemModstamp": "datetime",
        },
    },
    "Contact": {
        "degrades": "activities on contacts",
        "table": "contacts",
        "cursor": "SystemModstamp",
        "fields": {
            "Id": "id",
            "AccountId": "reference",
            "OwnerId": "reference",
            "LastName": "string",
            "FirstName": "string",
            "Name": "string",
            "Title": "string",
            "Phone": "phone",
            "MobilePhone": "phone",
            "Email": "email",
            "IsDeleted": "boolean",
            "CreatedDate": "datetime",
            "LastModifiedDate": "datetime",
            "SystemModstamp": "datetime",
        },
    },
    "Opportunity": {
        "required_object": True,
        "optional": {
            "Amount": "pipeline, forecast and won amounts",
            "CloseDate": "forecast and pipeline waterfall",
            "AccountId": "customer health and the U8 check of won deals",
            "NextStep": "PHI information completeness",
            "Next_Step_Date__c": "PHI information completeness",
            "Decision_Chain__c": "PHI information completeness",
            "Objection__c": "PHI information completeness",
        },
        "table": "opportunities",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "StageName"],
        "fields": {
            "Id": "id",
            "Name": "string",
            "AccountId": "reference",
            "OwnerId": "reference",
            "StageName": "picklist",
            "Amount": "currency",
            "Probability": "percent",
            "CloseDate": "date",
            "Type": "picklist",
            "LeadSource": "picklist",
            "IsClosed": "boolean",
            "IsWon": "boolean",
            "ForecastCategoryName": "picklist",
            "NextStep": "string",
            "Next_Step_Date__c": "date",
            "Decision_Chain__c": "textarea",
            "Objection__c": "textarea",
            **_AUDIT,
        },
    },
    "OpportunityHistory": {
        "required_object": True,
        "table": "opportunity_history",
        "cursor": "CreatedDate",
        "required": ["OpportunityId", "StageName"],
        "fields": {
            "Id": "id",
            "OpportunityId": "reference",
            "StageName": "picklist",
            "Amount": "currency",
            "Probability": "percent",
            "CloseDate": "date",
            "ExpectedRevenue": "currency",
            "ForecastCategory": "picklist",
            "CreatedById": "reference",
            "CreatedDate": "datetime",
            "SystemModstamp": "datetime",
            "IsDeleted": "boolean",
        },
    },
    "Task": {
        "degrades": "CRM tasks as touches and activities",
        "optional": {
            "CompletedDateTime": "task time falls back to CreatedDate (logged on ActivityDate) "
            "or ActivityDate",
            "IsClosed": "done tasks: those with a completion time or dated on or before the day "
            "they were logged",
            "WhoId": "tasks as lead touches",
            "WhatId": "tasks on opportunities (stagnation)",
        },
        "table": "tasks",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "CreatedDate"],
        "fields": {
            "Id": "id",
            **_ACTIVITY,
            "Status": "picklist",
            "Priority": "picklist",
            "TaskSubtype": "picklist",
            "Type": "picklist",
            "ActivityDate": "date",
            "CompletedDateTime": "datetime",
            "CallDurationInSeconds": "integer",
            "IsClosed": "boolean",
            **_AUDIT,
        },
    },
    "Event": {
        "degrades": "CRM visits and meetings as touches and activities",
        "optional": {
            "EndDateTime": "visit duration (short-visit rule)",
            "WhoId": "events as lead touches",
            "WhatId": "events on opportunities (stagnation)",
        },
        "table": "events",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "StartDateTime", "CreatedDate"],
        "fields": {
            "Id": "id",
            **_ACTIVITY,
            "Type": "picklist",
            "Location": "string",
            "StartDateTime": "datetime",
            "EndDateTime": "datetime",
            "DurationInMinutes": "integer",
            "ActivityDateTime": "datetime",
            "IsAllDayEvent": "boolean",
            **_AUDIT,
        },
    },
    "ContentVersion": {
        "degrades": "stage evidence",
        "optional": {
            "Evidence_Type__c": "stage evidence",
            "FirstPublishLocationId": "stage evidence",
        },
        "table": "content_versions",
        "cursor": "SystemModstamp",
        "fields": {
            "Id": "id",
            "Title": "string",
            "PathOnClient": "string",
            "FileType": "string",
            "ContentSize": "integer",
            "FirstPublishLocationId": "reference",
            "Evidence_Type__c": "picklist",
            "OwnerId": "reference",
            "IsDeleted": "boolean",
            "CreatedDate": "datetime",
            "CreatedById": "reference",
            "SystemModstamp": "datetime",
        },
    },
}

# -- source defaults (each can be overridden in [sources.crm] of ingest/.dlt/config.toml) -------

API_VERSION = "62.0"
"""REST API version: ``/services/data/v62.0/...``."""

START_DATE = "2000-01-01T00:00:00Z"
"""Initial value of every incremental cursor: records modified before it are not loaded."""

QUERY_BATCH_SIZE = 2000
"""Records per query page asked for (``Sforce-Query-Options: batchSize``; Salesforce: 200-2000)."""

CSV_BLOCK_SIZE = 1 << 20
"""Bytes of an export CSV parsed per Arrow block (small blocks parse fastest)."""

CSV_ROWS_PER_TABLE = 250_000
"""Rows per Arrow table handed to dlt: bounds memory on multi-GB exports."""

RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
RETRY_BUDGET_SECONDS = 600.0
"""Backoff for 5xx / REQUEST_LIMIT_EXCEEDED / dropped or truncated answers: base x 2^attempt,
capped at RETRY_MAX_SECONDS, giving up on a request after RETRY_BUDGET_SECONDS in total."""

CONFIGURABLE_FIELDS: dict[str, tuple[str, str]] = {
    "erp_customer_code": ("Account", "ERP_Customer_Code__c"),
    "evidence_type": ("ContentVersion", "Evidence_Type__c"),
}
"""Fields whose name differs between orgs, named in ``sources.crm.fields`` of the run
configuration (key -> the org's field name; e.g. ``erp_customer_code: AccountNumber``). The
value is read from the org's field and lands in the canonical column (``erp_customer_code_c``,
``evidence_type_c``)."""
