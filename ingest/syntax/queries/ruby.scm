; Ruby tags.

(class name: (_) @name) @definition.class
(module name: (_) @name) @definition.module
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.method
(assignment left: (constant) @name) @definition.constant

; References.
(call method: (identifier) @reference.call)
(call method: (constant) @reference.call)
(constant) @reference.class
(scope_resolution name: (constant) @reference.class)
