;;; e2e.el --- drives lore.el and eglot in `emacs --batch' for emacs_test.go  -*- lexical-binding: t; -*-

;; Reads its facts (file, out, ...) from the JSON file $LORE_TEST_FACTS,
;; runs a session against a real `lore lsp', and writes what it saw to
;; the JSON file facts.out. The assertions are in emacs_test.go.

(require 'cl-lib)
(require 'json)
(require 'lore)

(defvar e2e-facts (json-read-file (getenv "LORE_TEST_FACTS")))
(defun e2e-fact (k) (cdr (assq k e2e-facts)))
(defvar e2e-out nil "Alist written as JSON at the end.")
(defvar e2e-events nil "Messages and replies, newest first.")

(defun e2e-put (k v) (push (cons k v) e2e-out))

(defun e2e-write ()
  (with-temp-file (e2e-fact 'out)
    (insert (json-encode (nreverse e2e-out)))))

(defun e2e-wait (what pred secs)
  "Process input until PRED holds; an error naming WHAT after SECS."
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (or (funcall pred) (error "timed out waiting for %s" what))))

(defun e2e-ms (start) (round (* 1000 (- (float-time) start))))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql window/showMessage)) &key message &allow-other-keys)
  (push (list 'message message) e2e-events))

(defun e2e-message (prefix)
  (cl-loop for e in e2e-events
           when (and (eq (car e) 'message) (string-prefix-p prefix (cadr e)))
           return (cadr e)))

;; go-mode is not part of Emacs 28: a stand-in with its name.
(unless (fboundp 'go-mode)
  (define-derived-mode go-mode prog-mode "Go"))

(defun e2e-run ()
  (setq lore-max-tokens (e2e-fact 'max_tokens))
  (lore-setup)
  (find-file (e2e-fact 'file))
  (go-mode)
  (apply #'eglot (eglot--guess-contact))
  (e2e-wait "eglot to connect" #'eglot-current-server 60)
  (let* ((server (eglot-current-server))
         (proc (jsonrpc--process server)))
    (e2e-put 'server_pid (process-id proc))
    (e2e-put 'commands (plist-get (plist-get (eglot--capabilities server)
                                             :executeCommandProvider)
                                  :commands))

    ;; eglot's own synchronous path (eglot 1.9's eglot-execute-command) on
    ;; a daemon still starting: the reply comes at once, the answer later.
    (goto-char (point-min))
    (forward-line 3)
    (let* ((start (float-time))
           (reply (jsonrpc-request server :workspace/executeCommand
                                   (list :command "lore.ask"
                                         :arguments (vector (lore--location))))))
      (e2e-put 'sync_reply_ms (e2e-ms start))
      (e2e-put 'sync_reply reply)
      (e2e-put 'answer_before_reply (and (e2e-message "lore ask:") t))
      (e2e-wait "the answer's message" (lambda () (e2e-message "lore ask:")) 120)
      (e2e-put 'answer_message (e2e-message "lore ask:"))
      (e2e-put 'answer_ms (e2e-ms start)))

    ;; Code actions, and the first one run as eglot's menu runs it.
    (let* ((beg (progn (goto-char (point-min)) (forward-line 2) (point)))
           (end (progn (forward-line 3) (point)))
           (actions (eglot-code-actions beg end nil nil))
           (action (car actions))
           (cmd (plist-get action :command)))
      (e2e-put 'actions (mapcar (lambda (a) (plist-get a :title)) actions))
      (let* ((start (float-time))
             (token (eglot-execute-command server (intern (plist-get cmd :command))
                                           (plist-get cmd :arguments))))
        (e2e-put 'action_return_ms (e2e-ms start))
        (e2e-wait "the code action's answer" (lambda () (not (gethash token lore--jobs))) 120)
        (with-current-buffer "*lore ask*"
          (e2e-put 'action_buffer (buffer-substring-no-properties (point-min) (point-max))))))

    ;; An edit, not saved, reaches the daemon with the next question.
    (goto-char (point-min))
    (forward-line 2)
    (insert (e2e-fact 'edit))
    (let* ((start (float-time))
           (token (lore-ask (e2e-fact 'question))))
      (e2e-put 'ask_return_ms (e2e-ms start))
      (e2e-wait "lore-ask's answer" (lambda () (not (gethash token lore--jobs))) 120)
      (with-current-buffer "*lore ask*"
        (e2e-put 'ask_buffer (buffer-substring-no-properties (point-min) (point-max)))))
    (let ((st (jsonrpc-request server :lore/status nil :timeout 30)))
      (e2e-put 'buffers (plist-get st :buffers)))

    ;; Cancelled at once: the command ends as cancelled.
    (let ((token (lore-explain)))
      (e2e-put 'cancelled_count (lore-cancel))
      (e2e-wait "the cancelled command to end" (lambda () (not (gethash token lore--jobs))) 60)
      (with-current-buffer "*lore explain*"
        (e2e-put 'cancel_line header-line-format)))

    ;; Status.
    (let ((buf (lore-status)))
      (e2e-wait "the status" (lambda () (with-current-buffer buf (> (buffer-size) 0))) 60)
      (with-current-buffer buf
        (e2e-put 'status_buffer (buffer-substring-no-properties (point-min) (point-max)))))

    ;; Shutdown: the server process ends.
    (set-buffer-modified-p nil)
    (eglot-shutdown server)
    (e2e-wait "lore lsp to exit" (lambda () (not (process-live-p proc))) 30)
    (e2e-put 'server_status (symbol-name (process-status proc)))
    (e2e-put 'server_exit (process-exit-status proc))))

(condition-case err
    (e2e-run)
  (error (e2e-put 'error (error-message-string err))))
(e2e-write)
(kill-emacs 0)
