; C tags (also .h files).

; Functions; the name sits under pointer declarators for pointer returns.
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(function_definition declarator: (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))) @definition.function

; Prototypes: kept where the file has no definition of the name (headers).
(declaration declarator: (function_declarator declarator: (identifier) @name)) @declaration.function
(declaration declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @declaration.function

(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.macro

; const variables at the top level (also inside header guards).
(translation_unit (declaration (type_qualifier) @q declarator: (init_declarator declarator: (identifier) @name)) @definition.constant (#eq? @q "const"))
(preproc_ifdef (declaration (type_qualifier) @q declarator: (init_declarator declarator: (identifier) @name)) @definition.constant (#eq? @q "const"))

; References.
(call_expression function: (identifier) @reference.call)
(call_expression function: (field_expression field: (field_identifier) @reference.call))
(type_identifier) @reference.type
