; Go tags. The symbols keep ParseGo's rules (goSymbol): top-level
; definitions only, methods named "Recv.Name".

(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_declaration (type_spec name: (type_identifier) @name) @definition.type)
(type_declaration (type_alias name: (type_identifier) @name) @definition.type)
(const_declaration (const_spec name: (identifier) @name) @definition.constant)
(var_declaration (var_spec name: (identifier) @name) @definition.variable)
(var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.variable))

; References: called functions and methods, named types, struct fields.
(call_expression function: (identifier) @reference.call)
(call_expression function: (selector_expression field: (field_identifier) @reference.call))
(type_identifier) @reference.type
(qualified_type name: (type_identifier) @reference.type)
