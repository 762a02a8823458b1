{#-
  The alert engine's generic input (seeds 001, 004): one row per
  (source_model, metric, subject, metric_date) with the metric's value — daily
  marts unpivoted to long format, so a rule (seeds/alert_rules.csv) can point at
  any configured mart's column without SQL changes.

  Sources: var alert_metric_sources (default below), a mapping of model name →
  {date_column, subject_column (null = one subject 'all'), metrics: [columns],
  ref: true|false}.
  - ref: true  — a model of the project, read with ref() (lineage in the DAG).
  - ref: false — an optional model that a deployment may not have (a source
    configured through the var for a mart outside this project). dbt's
    `graph` is empty while parsing, so a ref() inside a graph check is never
    recorded; instead, at execution the model is looked up in graph.nodes by
    name and read through its relation_name. Absent → that source is skipped
    and its rules never fire; once present it is picked up with no change here.
    No DAG edge: this model is a table (not a view, which a cascade drop of the
    other table would remove) and is rebuilt by every alert evaluation.
  DECISIONLOG "Alert rules, sources and conditions".
-#}
{{ config(materialized='table', tags=['alerts']) }}

{%- set default_sources = {
    'fct_partner_metrics_daily': {
        'date_column': 'metric_date',
        'subject_column': none,
        'ref': true,
        'metrics': [
            'signup_conversion_rate', 'mail_success_rate', 'avg_approval_time_hours',
            'median_approval_time_hours', 'applications_pending', 'partners_active',
            'invite_acceptance_rate', 'api_success_rate',
        ],
    },
    'metrics_daily_payments': {
        'date_column': 'metric_date',
        'subject_column': "coalesce(country_code, 'unknown') || '/' || coalesce(provider, 'unknown')",
        'ref': true,
        'metrics': ['success_rate'],
    },
} -%}
{%- set sources = var('alert_metric_sources', default_sources) -%}
{%- set nodes = {} -%}
{%- for node in graph.nodes.values() -%}
    {%- if node.resource_type == 'model' and node.config.enabled -%}
        {%- do nodes.update({node.name: node}) -%}
    {%- endif -%}
{%- endfor -%}
{%- set enabled = [] -%}
{%- set from_clause = {} -%}
{%- set metrics_of = {} -%}
{%- for name in sources | sort -%}
    {%- set src = sources[name] -%}
    {%- if src.get('ref', false) -%}
        {%- do enabled.append(name) -%}
        {%- do from_clause.update({name: ref(name)}) -%}
        {%- do metrics_of.update({name: src['metrics']}) -%}
    {%- elif execute and name in nodes -%}
        {#- optional source: its table must exist and carry the configured columns -#}
        {%- set node = nodes[name] -%}
        {%- set rel = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if rel is not none -%}
            {%- set cols = adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list -%}
            {%- set present = src['metrics'] | select('in', cols) | list -%}
            {%- if src['date_column'] in cols and present
                  and (not src['subject_column'] or src['subject_column'] in cols) -%}
                {%- do enabled.append(name) -%}
                {%- do from_clause.update({name: rel}) -%}
                {%- do metrics_of.update({name: present}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endfor %}

with

{% for name in enabled -%}
{%- set src = sources[name] %}
{{ name }}_values as (

    {% for metric in metrics_of[name] -%}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as source_model,
        cast('{{ metric }}' as {{ dbt.type_string() }}) as metric,
        {{ unknown_member(src['subject_column'] if src['subject_column'] else "'all'") }} as subject,
        cast({{ src['date_column'] }} as date) as metric_date,
        cast({{ metric }} as {{ dbt.type_numeric() }}) as metric_value
    from {{ from_clause[name] }}
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

{% endfor -%}
unioned as (

    {% for name in enabled -%}
    select source_model, metric, subject, metric_date, metric_value from {{ name }}_values
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}
    {%- if not enabled %}
    select
        cast(null as {{ dbt.type_string() }}) as source_model,
        cast(null as {{ dbt.type_string() }}) as metric,
        cast(null as {{ dbt.type_string() }}) as subject,
        cast(null as date) as metric_date,
        cast(null as {{ dbt.type_numeric() }}) as metric_value
    where 1 = 0
    {%- endif %}

)

select
    {{ surrogate_key(['source_model', 'metric', 'subject', 'metric_date']) }} as metric_value_key,
    source_model,
    metric,
    subject,
    metric_date,
    metric_value
from unioned
