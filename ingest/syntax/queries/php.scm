; PHP tags.

(function_definition name: (name) @name) @definition.function
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
(method_declaration name: (name) @name) @definition.method
(namespace_definition name: (namespace_name) @name) @definition.module
(const_declaration (const_element (name) @name)) @definition.constant

; References.
(function_call_expression function: (name) @reference.call)
(function_call_expression function: (qualified_name (name) @reference.call))
(member_call_expression name: (name) @reference.call)
(scoped_call_expression name: (name) @reference.call)
(nullsafe_member_call_expression name: (name) @reference.call)
(object_creation_expression (name) @reference.class)
(object_creation_expression (qualified_name (name) @reference.class))
(scoped_call_expression scope: (name) @reference.class)
(named_type (name) @reference.type)
(base_clause (name) @reference.class)
(class_interface_clause (name) @reference.class)
(use_declaration (name) @reference.trait)
