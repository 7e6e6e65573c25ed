; Lua tags. Nodes of this grammar may start with the white space before
; them; symbol lines skip it.

(function_statement name: (identifier) @name (function_body) @body) @definition.function
(function_statement name: (function_name . (identifier) @name .) (function_body) @body) @definition.function
(function_statement name: (function_name (identifier) @scope [(table_dot) (table_colon)] (identifier) @name .) (function_body) @body) @definition.method
(program (variable_declaration name: (variable_declarator (identifier) @name) value: (function (function_body) @body)) @definition.function)
(program (variable_declaration name: (variable_declarator (identifier) @name)) @definition.variable)

; References.
(function_call prefix: (identifier) @reference.call)
(function_call (self_call_colon) (identifier) @reference.call)
