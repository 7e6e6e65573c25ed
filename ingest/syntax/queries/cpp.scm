; C++ tags.

; Functions and methods; out-of-class definitions name their class as @scope.
(function_definition declarator: (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)) @definition.function
(function_definition declarator: (function_declarator declarator: (qualified_identifier scope: (_) @scope name: (_) @name))) @definition.method
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (operator_name)] @name))) @definition.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier scope: (_) @scope name: (_) @name)))) @definition.method
(function_definition declarator: (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (operator_name)] @name))) @definition.function
(function_definition declarator: (reference_declarator (function_declarator declarator: (qualified_identifier scope: (_) @scope name: (_) @name)))) @definition.method

; Declarations: prototypes and in-class method declarations, kept where the
; file has no definition of the name.
(declaration declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)) @declaration.function
(field_declaration declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)) @declaration.function
(field_declaration declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))) @declaration.function
(field_declaration declarator: (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))) @declaration.function

(namespace_definition name: (_) @name) @definition.module
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(class_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.class
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(struct_specifier name: (template_type name: (type_identifier) @name) body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(alias_declaration name: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.macro

; const variables at namespace level.
(translation_unit (declaration (type_qualifier) @q declarator: (init_declarator declarator: (identifier) @name)) @definition.constant (#match? @q "^(const|constexpr)$"))
(declaration_list (declaration (type_qualifier) @q declarator: (init_declarator declarator: (identifier) @name)) @definition.constant (#match? @q "^(const|constexpr)$"))
(preproc_ifdef (declaration (type_qualifier) @q declarator: (init_declarator declarator: (identifier) @name)) @definition.constant (#match? @q "^(const|constexpr)$"))

; References.
(call_expression function: (identifier) @reference.call)
(call_expression function: (field_expression field: (field_identifier) @reference.call))
(call_expression function: (qualified_identifier name: (identifier) @reference.call))
(call_expression function: (template_function name: (identifier) @reference.call))
(type_identifier) @reference.type
(namespace_identifier) @reference.module
