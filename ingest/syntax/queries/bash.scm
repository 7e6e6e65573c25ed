; Bash tags.

(function_definition name: (word) @name) @definition.function

; Top-level variables; readonly ones are constants.
(program (declaration_command "readonly" (variable_assignment name: (variable_name) @name)) @definition.constant)
(program (declaration_command (variable_assignment name: (variable_name) @name)) @definition.variable)
(program (variable_assignment name: (variable_name) @name) @definition.variable)

; References: commands run (functions, programs).
(command name: (command_name (word) @reference.call))
