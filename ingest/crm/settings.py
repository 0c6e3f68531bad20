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

OBJECTS: dict[str, dict[str, Any]] = {
    "User": {
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
            **_AUDIT,
        },
    },
    "LeadHistory": {
        "table": "lead_history",
        "cursor": "CreatedDate",
        "required": ["LeadId", "Field"],
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
        "table": "tasks",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "CreatedDate"],
        "fields": {
            "Id": "id",
            "WhoId": "reference",
            "WhatId": "reference",
            "OwnerId": "reference",
            "Subject": "string",
            "Description": "textarea",
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
        "table": "events",
        "cursor": "SystemModstamp",
        "required": ["OwnerId", "StartDateTime", "CreatedDate"],
        "fields": {
            "Id": "id",
            "WhoId": "reference",
            "WhatId": "reference",
            "OwnerId": "reference",
            "Subject": "string",
            "Description": "textarea",
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
