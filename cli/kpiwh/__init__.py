"""kpi-warehouse command-line package (`kpi`).

Thin orchestration over dbt's programmatic runner and psycopg: the embedded
PostgreSQL, the raw contract, loading, generation, builds and reports.
"""

__version__ = "0.1.0"
