; Scala tags.

(class_definition name: (identifier) @name) @definition.class
(object_definition name: (identifier) @name) @definition.object
(trait_definition name: (identifier) @name) @definition.trait
(enum_definition name: (identifier) @name) @definition.enum
(type_definition name: (type_identifier) @name) @definition.type
(function_definition name: (identifier) @name) @definition.function
(function_declaration name: (identifier) @name) @definition.function

; vals at the top level and in objects are constants.
(compilation_unit (val_definition pattern: (identifier) @name) @definition.constant)
(object_definition body: (template_body (val_definition pattern: (identifier) @name) @definition.constant))

; References.
(call_expression function: (identifier) @reference.call)
(call_expression function: (field_expression field: (identifier) @reference.call))
(instance_expression (type_identifier) @reference.class)
(extends_clause type: (type_identifier) @reference.class)
(type_identifier) @reference.type
