{#-
  customer_refresh_mode()
  var('customer_refresh_mode') validated: 'full' (default) or 'recent'.
  Any other value stops the run with a clear compilation error.
-#}
{% macro customer_refresh_mode() -%}
    {%- set mode = (var('customer_refresh_mode', 'full') or 'full') | string | trim | lower -%}
    {%- if mode not in ('full', 'recent') -%}
        {{ exceptions.raise_compiler_error(
            "var customer_refresh_mode must be 'full' or 'recent', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{- return(mode) -}}
{%- endmacro %}
