"""The U8 tables the source reads (docs/sources.md): columns, types, primary key and cursor.

Types: ``str``, ``int``, ``money`` (DECIMAL(20,2)), ``qty`` (DECIMAL(20,6)), ``datetime``
(U8 local wall-clock time, no zone). ``ufts`` (documents) and ``pubufts`` (master data) are
SQL Server rowversions, read as integers: the incremental cursor. A line table names its
``header``: not every U8 gives lines a ``ufts`` (SPEC §3.3 does not list it), and where a line
table has none its rows are read through the header's cursor — the lines of every new or
changed document (saving a document stamps its header), landing the header's ``ufts``.
"""

from __future__ import annotations

from typing import Any

TABLES: dict[str, dict[str, Any]] = {
    "Customer": {
        "primary_key": "cCusCode",
        "cursor": "pubufts",
        "columns": {
            "cCusCode": "str", "cCusName": "str", "cCusAbbName": "str", "cCCCode": "str",
            "cCusDepart": "str", "cCusPPerson": "str", "dCusDevDate": "datetime", "pubufts": "int",
        },
    },
    "Person": {
        "primary_key": "cPersonCode",
        "cursor": "pubufts",
        "columns": {
            "cPersonCode": "str", "cPersonName": "str", "cDepCode": "str", "pubufts": "int",
        },
    },
    "Department": {
        "primary_key": "cDepCode",
        "cursor": "pubufts",
        "columns": {"cDepCode": "str", "cDepName": "str", "pubufts": "int"},
    },
    "SO_SOMain": {
        "primary_key": "ID",
        "cursor": "ufts",
        "columns": {
            "ID": "int", "cSOCode": "str", "dDate": "datetime", "cCusCode": "str",
            "cPersonCode": "str", "cDepCode": "str", "iStatus": "int", "cVerifier": "str",
            "dverifysystime": "datetime", "dmodifysystime": "datetime", "ufts": "int",
        },
    },
    "SO_SODetails": {
        "header": "SO_SOMain",
        "primary_key": "iSOsID",
        "cursor": "ufts",
        "columns": {
            "iSOsID": "int", "ID": "int", "cInvCode": "str", "iQuantity": "qty", "iMoney": "money",
            "iTax": "money", "iSum": "money", "iNatSum": "money", "dPreDate": "datetime",
            "ufts": "int",
        },
    },
    "SaleBillVouch": {
        "primary_key": "SBVID",
        "cursor": "ufts",
        "columns": {
            "SBVID": "int", "cSBVCode": "str", "dDate": "datetime", "cCusCode": "str",
            "cPersonCode": "str", "cSOCode": "str", "ufts": "int",
        },
    },
    "SaleBillVouchs": {
        "header": "SaleBillVouch",
        "primary_key": "AutoID",
        "cursor": "ufts",
        "columns": {
            "AutoID": "int", "SBVID": "int", "iSum": "money", "iNatSum": "money", "iSOsID": "int",
            "ufts": "int",
        },
    },
    "Ap_CloseBill": {
        "primary_key": "iID",
        "cursor": "ufts",
        "columns": {
            "iID": "int", "cVouchID": "str", "cVouchType": "str", "cFlag": "str",
            "dVouchDate": "datetime", "cDwCode": "str", "cPerson": "str", "iAmount": "money",
            "ufts": "int",
        },
    },
    "Ap_CloseBills": {
        "header": "Ap_CloseBill",
        "primary_key": "ID",
        "cursor": "ufts",
        "columns": {"ID": "int", "iID": "int", "iAmt": "money", "ufts": "int"},
    },
}  # fmt: skip

DEFAULT_CHUNK_SIZE = 50_000
