; TypeScript tags (also TSX, with jsx.scm).

(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(function_signature name: (identifier) @name) @declaration.function
(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(class_body (method_definition name: (_) @name) @definition.method)
(class_body (abstract_method_signature name: (_) @name) @definition.method)
(class_body (method_signature name: (_) @name) @declaration.method)
(interface_declaration name: (type_identifier) @name) @definition.interface
(interface_body (method_signature name: (_) @name) @definition.method)
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
(internal_module name: (_) @name) @definition.module
(module name: (_) @name) @definition.module

; Functions bound to names at the top level: const f = () => ...;
(program (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function body: (_) @body) (function_expression body: (_) @body) (generator_function body: (_) @body)])) @definition.function)
(program (variable_declaration (variable_declarator name: (identifier) @name value: [(arrow_function body: (_) @body) (function_expression body: (_) @body) (generator_function body: (_) @body)])) @definition.function)
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function))

; Top-level constants and variables.
(program (lexical_declaration "const" (variable_declarator name: (identifier) @name)) @definition.constant)
(program (export_statement (lexical_declaration "const" (variable_declarator name: (identifier) @name)) @definition.constant))
(program (lexical_declaration "let" (variable_declarator name: (identifier) @name)) @definition.variable)
(program (variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable)

; References.
(call_expression function: (identifier) @reference.call)
(call_expression function: (member_expression property: (property_identifier) @reference.call))
(new_expression constructor: (identifier) @reference.class)
(new_expression constructor: (member_expression property: (property_identifier) @reference.class))
(extends_clause value: (identifier) @reference.class)
(extends_clause value: (member_expression property: (property_identifier) @reference.class))
(type_identifier) @reference.type
(nested_type_identifier name: (type_identifier) @reference.type)
(import_specifier name: (identifier) @reference.import)
