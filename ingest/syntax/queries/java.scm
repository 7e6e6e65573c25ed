; Java tags.

(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(annotation_type_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.constructor

; static final fields are constants.
((field_declaration (modifiers) @mods declarator: (variable_declarator name: (identifier) @name)) @definition.constant
  (#match? @mods "\\bstatic\\b")
  (#match? @mods "\\bfinal\\b"))

; References.
(method_invocation name: (identifier) @reference.call)
(object_creation_expression type: (type_identifier) @reference.class)
(object_creation_expression type: (generic_type (type_identifier) @reference.class))
(type_identifier) @reference.type
(method_reference (identifier) @reference.call)
