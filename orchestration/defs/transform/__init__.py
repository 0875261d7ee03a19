"""The dbt project as assets: staging, intermediate, marts and seeds, with dbt tests as asset checks."""

import dagster as dg

from orchestration.defs.transform.assets import settld_dbt_models

defs = dg.Definitions(assets=[settld_dbt_models])
