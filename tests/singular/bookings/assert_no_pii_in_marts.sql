-- SPEC "no mart holds an email, phone or name column" (seeds 002, 004): no
-- relation in a marts schema has a column named like a source column marked
-- meta.pii, nor one that looks like personal data by its name.
{%- set pii_columns = ['email', 'phone', 'given_name', 'family_name', 'first_name', 'last_name', 'full_name'] -%}
{%- set mart_schemas = [] -%}
{%- if execute -%}
    {%- for source in graph.sources.values() -%}
        {%- for column in source.columns.values() -%}
            {%- set column_meta = column.get('meta') or {} -%}
            {%- set column_config_meta = (column.get('config') or {}).get('meta') or {} -%}
            {%- if (column_meta.get('pii') or column_config_meta.get('pii'))
                   and column.name | lower not in pii_columns -%}
                {%- do pii_columns.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and 'marts' in node.fqn
               and node.schema | lower not in mart_schemas -%}
            {%- do mart_schemas.append(node.schema | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if not mart_schemas -%}{%- do mart_schemas.append('marts') -%}{%- endif %}

select
    table_schema,
    table_name,
    column_name
from information_schema.columns
where lower(table_schema) in ('{{ mart_schemas | join("', '") }}')
    and (
        lower(column_name) in ('{{ pii_columns | join("', '") }}')
        or lower(column_name) like '%email%'
        or lower(column_name) like '%phone%'
    )
