; Kotlin tags. This grammar has no field names: patterns rely on child
; node types and the anonymous keywords.

(class_declaration "interface" (type_identifier) @name (class_body)? @body) @definition.interface
(class_declaration "enum" (type_identifier) @name (enum_class_body)? @body) @definition.enum
(class_declaration (type_identifier) @name [(class_body) (enum_class_body)]? @body) @definition.class
(object_declaration (type_identifier) @name (class_body)? @body) @definition.object
(type_alias (type_identifier) @name) @definition.type
(class_body (function_declaration (simple_identifier) @name (function_body)? @body) @definition.method)
(function_declaration (simple_identifier) @name (function_body)? @body) @definition.function

; const val anywhere, other top-level properties.
((property_declaration (modifiers (property_modifier) @mod) (variable_declaration (simple_identifier) @name)) @definition.constant
  (#eq? @mod "const"))
(source_file (property_declaration (variable_declaration (simple_identifier) @name)) @definition.variable)

; References.
(call_expression (simple_identifier) @reference.call)
(call_expression (navigation_expression (navigation_suffix (simple_identifier) @reference.call)))
(user_type (type_identifier) @reference.type)
(delegation_specifier (user_type (type_identifier) @reference.class))
