;;; lore.el --- Ask lore about your repository, through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages

;;; Commentary:

;; lore keeps a repository in a local model's context and answers
;; questions about it.  `lore lsp' is its language server; this package
;; runs it under eglot (Emacs 28 with Debian's eglot 1.9, or newer):
;;
;;   (require 'lore)
;;   (lore-setup)                     ; eglot-server-programs entry
;;   (global-set-key (kbd "C-c l") lore-command-map)
;;
;; then M-x eglot in a file of the repository.  `lore-ask',
;; `lore-explain', `lore-plan' and `lore-summarize-changes' run the
;; server's commands without waiting for the answer: the server replies at
;; once and streams the answer on the work-done token this package
;; gives it, into the *lore ask* (*lore explain*, ...) buffer.
;; `lore-cancel' stops what runs; `lore-status' shows the daemon's
;; status.  Code actions (M-x eglot-code-actions) go through the same
;; path.  See docs/editors.md in lore's repository.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'subr-x)

(defgroup lore nil
  "Ask lore, a local model that knows the repository."
  :group 'tools
  :prefix "lore-")

(defcustom lore-program '("lore" "lsp")
  "The command line of lore's language server."
  :type '(repeat string))

(defcustom lore-major-modes
  '(go-mode go-ts-mode python-mode python-ts-mode js-mode js-ts-mode
    typescript-mode typescript-ts-mode tsx-ts-mode rust-mode rust-ts-mode
    java-mode java-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode
    ruby-mode ruby-ts-mode sh-mode bash-ts-mode php-mode csharp-mode
    csharp-ts-mode kotlin-mode lua-mode scala-mode)
  "Major modes whose buffers `lore-setup' has eglot manage with lore.
The languages lore parses; lore packs every text file of the
repository whatever the mode.  eglot runs one server per buffer, so a
mode listed here gets lore instead of its language's own server."
  :type '(repeat symbol))

(defcustom lore-max-tokens nil
  "Answer length limit of questions (tokens); nil is the server's default."
  :type '(choice (const :tag "Server default" nil) integer))

(defcustom lore-show-answers "document"
  "How the server shows answers it does not stream to this package.
\"document\" writes each answer to a Markdown file (named in the
answer buffer); \"message\" and \"none\" as in docs/editors.md."
  :type '(choice (const "document") (const "message") (const "none")))

(defconst lore--answer-commands
  '("lore.ask" "lore.explain" "lore.plan" "lore.summarizeChanges")
  "The server's commands that answer a question.")

(defvar lore--jobs (make-hash-table :test #'equal)
  "Work-done token -> plist (:server :buffer :command) of running commands.")

(defvar lore--counter 0)

(defvar-local lore--answer-start nil
  "Where the answer starts in an answer buffer.")
(defvar-local lore--token nil
  "The work-done token of the command an answer buffer shows.")
(defvar-local lore--document nil
  "The file the server renders the answer into, when it does.")

(defun lore--initialization-options (&optional _server)
  "The server's settings, from the customization variables."
  (append (list :showAnswers lore-show-answers)
          (and lore-max-tokens (list :maxTokens lore-max-tokens))))

(defun lore-contact ()
  "The eglot contact that starts lore's language server."
  (append lore-program
          (list :initializationOptions #'lore--initialization-options)))

;;;###autoload
(defun lore-setup ()
  "Have eglot manage `lore-major-modes' with lore's language server."
  (interactive)
  (setq eglot-server-programs
        (cons (cons lore-major-modes (lore-contact))
              (cl-remove-if (lambda (e) (equal (cdr e) (lore-contact)))
                            eglot-server-programs))))

(defun lore--lore-server-p (server)
  "Whether SERVER is lore's language server."
  (let ((cmds (plist-get (plist-get (eglot--capabilities server)
                                    :executeCommandProvider)
                         :commands)))
    (and cmds (seq-contains-p cmds "lore.ask"))))

(defun lore--server ()
  "This buffer's lore server, or an error saying how to get one."
  (let ((server (eglot-current-server)))
    (unless server
      (user-error "lore: no language server manages this buffer: run M-x lore-setup, then M-x eglot"))
    (unless (lore--lore-server-p server)
      (user-error "lore: this buffer's language server is not lore lsp (add its mode to `lore-major-modes' and run M-x lore-setup)"))
    server))

(defun lore--uri (file)
  (if (fboundp 'eglot-path-to-uri)
      (eglot-path-to-uri file)
    (eglot--path-to-uri file)))

(defun lore--location ()
  "The command argument for the region, or the cursor: {uri, range}."
  (when buffer-file-name
    (let* ((beg (if (use-region-p) (region-beginning) (point)))
           (end (if (use-region-p) (region-end) (point))))
      (list :uri (lore--uri buffer-file-name)
            :range (list :start (eglot--pos-to-lsp-position beg)
                         :end (eglot--pos-to-lsp-position end))))))

(defun lore--flush-changes ()
  "Send the buffer's pending edits: the question sees the buffer as shown."
  (when (and (bound-and-true-p eglot--managed-mode)
             (fboundp 'eglot--signal-textDocument/didChange))
    (eglot--signal-textDocument/didChange)))

(defun lore--buffer (command question)
  "A fresh answer buffer for COMMAND asking QUESTION."
  (let ((buf (get-buffer-create
              (format "*%s*" (replace-regexp-in-string "\\." " " command)))))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (if (fboundp 'markdown-mode) (markdown-mode) (text-mode))
        (insert (format "# %s\n\n" command))
        (when (and question (not (string-empty-p question)))
          (insert (format "> %s\n\n" question)))
        (setq-local lore--answer-start (point-marker))
        (setq buffer-read-only t)
        (setq header-line-format "lore: asking…")))
    buf))


(defun lore--insert (buf text)
  "Append TEXT to the answer in BUF."
  (when (buffer-live-p buf)
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (save-excursion
          (goto-char (point-max))
          (insert text))))))

(defun lore--status-line (buf line)
  (when (buffer-live-p buf)
    (with-current-buffer buf
      (setq header-line-format (concat "lore: " line))
      (force-mode-line-update))))

(defun lore--finish (token line &optional answer)
  "End the command of TOKEN with LINE; ANSWER, when given, is its result."
  (let ((job (gethash token lore--jobs)))
    (remhash token lore--jobs)
    (when-let ((buf (plist-get job :buffer)))
      (when (and (buffer-live-p buf)
                 (equal (buffer-local-value 'lore--token buf) token))
        (with-current-buffer buf
          (let ((text (plist-get answer :text)))
            (when (and text (= (point-max) (marker-position lore--answer-start)))
              (lore--insert buf text)))
          (let ((file (plist-get answer :documentUri)))
            (lore--insert buf (concat "\n\n---\n" line
                                      (if file (format "\n%s\n" file) "\n"))))
          (lore--status-line buf line))))
    (message "lore %s: %s" (or (plist-get job :command) "") line)))

(defun lore--progress (token value)
  "Handle the $/progress VALUE of the running command TOKEN."
  (let* ((job (gethash token lore--jobs))
         (buf (plist-get job :buffer))
         (kind (plist-get value :kind)))
    (cond
     ((not (buffer-live-p buf)))
     ((equal kind "end")
      (lore--finish token (or (plist-get value :message) "done")
                    (plist-get value :answer)))
     ((not (equal (buffer-local-value 'lore--token buf) token)))
     (t
      (when-let ((text (plist-get value :text)))
        (lore--insert buf text))
      (when-let ((msg (plist-get value :message)))
        (lore--status-line buf msg))))))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql $/progress)) &key token value &allow-other-keys)
  "Route the progress of lore's commands to their answer buffers."
  (when (and (stringp token) (gethash token lore--jobs))
    (lore--progress token value)))

(defun lore--run (server command argument)
  "Run the answer COMMAND with ARGUMENT on SERVER without waiting.
The answer streams into a buffer; returns the work-done token."
  (let* ((token (format "lore-el-%d-%d" (emacs-pid) (cl-incf lore--counter)))
         (buf (lore--buffer command (plist-get argument :question))))
    (with-current-buffer buf (setq lore--token token))
    (puthash token (list :server server :buffer buf :command command) lore--jobs)
    (display-buffer buf)
    (jsonrpc-async-request
     server :workspace/executeCommand
     (list :command command
           :arguments (if argument (vector argument) [])
           :workDoneToken token)
     :success-fn
     (lambda (result)
       (cond
        ((plist-get result :started)
         (let ((job (gethash token lore--jobs)))
           (when job
             (puthash token (plist-put job :started t) lore--jobs)
             ;; Cancelled before the reply: the server knows the token now.
             (when (plist-get job :cancel)
               (jsonrpc-notify server :window/workDoneProgress/cancel
                               (list :token token)))))
         (when-let ((file (plist-get result :documentUri)))
           (with-current-buffer buf (setq-local lore--document file))))
        ;; A server that answers in the reply (commandReply "answer").
        ((gethash token lore--jobs)
         (lore--finish token "answered" result))))
     :error-fn
     (lambda (err)
       (when (gethash token lore--jobs)
         (lore--finish token (format "failed: %s" (plist-get err :message)))))
     :timeout-fn
     (lambda ()
       (when (gethash token lore--jobs)
         (lore--finish token "no reply from lore lsp"))))
    token))

(defun lore--ask (command question)
  (lore--flush-changes)
  (let ((arg (lore--location)))
    (when (and question (not (string-empty-p question)))
      (setq arg (plist-put arg :question question)))
    (lore--run (lore--server) command arg)))

;;;###autoload
(defun lore-ask (question)
  "Ask lore QUESTION about the region (or the code around point)."
  (interactive (list (read-string "Ask lore (empty: explain this code): ")))
  (lore--ask "lore.ask" question))

;;;###autoload
(defun lore-explain ()
  "Explain the region (or the code around point) with the repository as context."
  (interactive)
  (lore--ask "lore.explain" nil))

;;;###autoload
(defun lore-plan (question)
  "Plan a change here; QUESTION continues the planning session."
  (interactive (list (read-string "Plan with lore (empty: plan a change here): ")))
  (lore--ask "lore.plan" question))

;;;###autoload
(defun lore-summarize-changes ()
  "Summarize the repository's uncommitted changes (git diff HEAD)."
  (interactive)
  (lore--flush-changes)
  (lore--run (lore--server) "lore.summarizeChanges" nil))

;;;###autoload
(defun lore-cancel ()
  "Stop lore's commands still running for this Emacs."
  (interactive)
  (let ((n 0))
    (maphash (lambda (token job)
               (let ((server (plist-get job :server)))
                 (when (jsonrpc-running-p server)
                   (if (plist-get job :started)
                       (jsonrpc-notify server :window/workDoneProgress/cancel
                                       (list :token token))
                     ;; Sent when the command's reply comes.
                     (puthash token (plist-put job :cancel t) lore--jobs))
                   (cl-incf n))))
             lore--jobs)
    (message "lore: cancelling %d command%s" n (if (= n 1) "" "s"))
    n))

(defun lore--format-status (st)
  "Lines of the daemon status ST (a plist)."
  (let ((lines nil))
    (cl-loop for (k v) on st by #'cddr
             do (push (format "%-24s %s" (substring (symbol-name k) 1)
                              (if (stringp v) v (json-encode v)))
                      lines))
    (mapconcat #'identity (nreverse lines) "\n")))

;;;###autoload
(defun lore-status ()
  "Show the lore daemon's status in the *lore status* buffer."
  (interactive)
  (let ((buf (get-buffer-create "*lore status*")))
    (jsonrpc-async-request
     (lore--server) :workspace/executeCommand (list :command "lore.status")
     :success-fn
     (lambda (st)
       (with-current-buffer buf
         (let ((inhibit-read-only t))
           (erase-buffer)
           (insert "# lore status\n\n" (lore--format-status st) "\n")
           (setq buffer-read-only t)))
       (display-buffer buf))
     :error-fn
     (lambda (err) (message "lore status: %s" (plist-get err :message)))
     ;; The first status waits for the daemon to start.
     :timeout 120)
    buf))

(cl-defmethod eglot-execute-command :around (server command arguments)
  "Run lore's answer commands (code actions) without waiting for the answer."
  (let ((name (format "%s" command)))
    (if (and (member name lore--answer-commands) (lore--lore-server-p server))
        (lore--run server name (and arguments (> (length arguments) 0)
                                    (elt arguments 0)))
      (cl-call-next-method))))

;; Newer eglot runs code actions through `eglot-execute' (a Command or a
;; CodeAction); route lore's there too.
(when (and (fboundp 'cl-generic-p) (cl-generic-p 'eglot-execute))
  (cl-defmethod eglot-execute :around (server action)
    (let* ((cmd (if (stringp (plist-get action :command))
                    action
                  (plist-get action :command)))
           (name (and cmd (plist-get cmd :command)))
           (args (and cmd (plist-get cmd :arguments))))
      (if (and name (not (plist-get action :edit))
               (member name lore--answer-commands) (lore--lore-server-p server))
          (lore--run server name (and args (> (length args) 0) (elt args 0)))
        (cl-call-next-method)))))

(defvar lore-command-map
  (let ((map (make-sparse-keymap)))
    (define-key map "a" #'lore-ask)
    (define-key map "e" #'lore-explain)
    (define-key map "p" #'lore-plan)
    (define-key map "d" #'lore-summarize-changes)
    (define-key map "s" #'lore-status)
    (define-key map "k" #'lore-cancel)
    map)
  "lore's commands; bind it to a prefix, e.g. C-c l.")
(fset 'lore-command-map lore-command-map)

(provide 'lore)
;;; lore.el ends here
