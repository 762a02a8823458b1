{#-
  pa_summaries(analyses)
  The normalised entries without their compiled SQL (`condition`, `breakdown_sql`,
  `columns`): what `kpi analyses list|show` print (stored in the marts' meta, so the
  CLI reads the entries dbt checked). Not recursive: a dbt macro's return() does not
  survive a call to itself.
-#}
{% macro pa_summaries(analyses) -%}
    {%- set out = [] -%}
    {%- for a in analyses -%}
        {%- set item = {} -%}
        {%- for key, value in a.items() -%}
            {%- if key in ['breakdown_sql', 'columns'] -%}
                {#- compiled SQL: left out -#}
            {%- elif key == 'steps' -%}
                {%- set steps = [] -%}
                {%- for s in value -%}
                    {%- do steps.append({'name': s.name, 'event': s.event, 'where': s.where}) -%}
                {%- endfor -%}
                {%- do item.update({key: steps}) -%}
            {%- elif key in ['exclude', 'start', 'return'] and value is mapping -%}
                {%- set spec = {} -%}
                {%- for k, v in value.items() -%}
                    {%- if k != 'condition' -%}
                        {%- do spec.update({k: v}) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- do item.update({key: spec}) -%}
            {%- else -%}
                {%- do item.update({key: value}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do out.append(item) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}
