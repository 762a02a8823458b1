{#-
  create_indexes_after_batches(indexes)
  Post-hook for a large microbatch model: creates each index (a list of column
  lists) if it does not exist yet. dbt runs a microbatch model's post-hooks once,
  after its LAST batch, so on a first build / --full-refresh the index is built
  once by a sort over the finished table instead of being maintained row by row
  through every batch's inserts; on an incremental run it already exists (no-op)
  and is maintained as usual. Named <table>__<columns>_idx: a stable name is
  what makes `if not exists` work (dbt-postgres' get_create_index_sql names an
  index by a hash that includes the current time).
-#}
{% macro create_indexes_after_batches(indexes) -%}
    {%- for columns in indexes -%}
    create index if not exists {{ adapter.quote((this.identifier ~ '__' ~ columns | join('_') ~ '_idx')[:63]) }}
        on {{ this }} ({{ columns | join(', ') }});
    {% endfor -%}
{%- endmacro %}
