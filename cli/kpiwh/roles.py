"""``kpi init --roles``: the access-control objects of docs/security.md.

The SQL lives in one place, the dbt macro ``kpi_security_setup``
(macros/security/), which is also the project's ``on-run-start`` hook; this
module runs it once through ``dbt run-operation kpi_security_init``:

- the NOLOGIN group roles :data:`GROUP_ROLES` (created when missing; needs a
  superuser or a role with CREATEROLE, otherwise one clear error);
- ``ops.tenant_access(role_name, tenant_id)``, the role-to-tenant mapping the
  tenant policies read (row-level security: each role sees its own mappings);
- USAGE on schema ``raw`` and SELECT on every raw table for ``kpi_admin`` only
  (dbt does not own the raw contract, so its ``grants`` config cannot cover it).
"""

from __future__ import annotations

import os

from . import db, runner
from .errors import KpiError

GROUP_ROLES = ("kpi_admin", "kpi_monitor", "kpi_reader", "kpi_client")


def setup() -> None:
    """Create the group roles, ``ops.tenant_access`` and the raw grants (idempotent).

    Raises:
        KpiError: dbt failed, e.g. a role is missing and the connected user may
            not create roles (the message says what to do).
    """
    os.environ.update(db.dbt_env())
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, only when the roles are set up)

    errors: list[str] = []

    def on_event(event) -> None:
        if event.info.level == "error" and event.info.msg:
            errors.append(str(event.info.msg))

    res = dbtRunner(callbacks=[on_event]).invoke(
        ["--quiet", "--no-use-colors", "run-operation", "kpi_security_init", *runner.base_args()]
    )
    if not res.success:
        text = " ".join(errors) or str(res.exception or "see logs/dbt.log")
        reason = next(
            (line.strip() for line in text.splitlines() if "role " in line and "does not exist" in line),
            " ".join(text.split()),
        )
        raise KpiError(f"kpi init --roles: {reason[:300]}")
