;;; bench.el --- how long lore's commands hold Emacs (scripts/bench-editors.sh)  -*- lexical-binding: t; -*-

;; In `emacs --batch': connects eglot to `lore lsp' on $LORE_BENCH_FILE and
;; times, $LORE_BENCH_N times per phase, how long each way of running an
;; answer command keeps Emacs from its command loop:
;;   eglot-sync  eglot's own `workspace/executeCommand' (a blocking request,
;;               what a code action does without lore.el)
;;   lore-ask    `lore-ask' (lore.el: an asynchronous request)
;; Phases: cold (right after connecting: the daemon starts and prefills),
;; busy (the daemon ready, questions running). Each sample is one line
;; "emacs PATH PHASE DAEMON-STATE MS" appended to $LORE_BENCH_OUT.

(require 'cl-lib)
(require 'lore)

(defvar bench-n (string-to-number (or (getenv "LORE_BENCH_N") "5")))
(defvar bench-out (getenv "LORE_BENCH_OUT"))
(unless (fboundp 'go-mode)
  (define-derived-mode go-mode prog-mode "Go"))

(defun bench-wait (pred secs)
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (funcall pred)))

(defvar bench-samples nil "(PATH PHASE MS), newest first, until written.")

(defun bench-record (path phase _state ms)
  (push (list path phase ms) bench-samples))

(defun bench-flush (state)
  "Write the samples taken, labelled with the daemon's STATE during them."
  (dolist (s (reverse bench-samples))
    (write-region (format "emacs %s %s %s %.2f\n" (nth 0 s) (nth 1 s) state (nth 2 s))
                  nil bench-out t 'silent))
  (setq bench-samples nil))

(defun bench-time (f)
  (let ((t0 (float-time)))
    (funcall f)
    (* 1000 (- (float-time) t0))))

(defvar bench-state "unknown")

(defun bench-phase (server phase)
  (dotimes (_ bench-n)
    (bench-record "eglot-sync" phase bench-state
                  (bench-time (lambda ()
                                (jsonrpc-request server :workspace/executeCommand
                                                 (list :command "lore.ask"
                                                       :arguments (vector (lore--location)))))))
    (bench-record "lore-ask" phase bench-state
                  (bench-time (lambda () (lore-ask "What does this do?"))))
    (accept-process-output nil 0.05)))

(defun bench-status (server)
  (jsonrpc-request server :lore/status nil :timeout 300))

(condition-case err
    (progn
      (lore-setup)
      (find-file (getenv "LORE_BENCH_FILE"))
      (go-mode)
      (apply #'eglot (eglot--guess-contact))
      (bench-wait #'eglot-current-server 60)
      (let ((server (eglot-current-server)))
        (goto-char (point-min))
        (forward-line 3)
        ;; The daemon is starting: the server connects after initialized.
        ;; Its state once the phase is over says what it was doing.
        (bench-phase server "cold")
        (let ((st (bench-status server)))
          (bench-flush (format "%s-at-end,pack-%s-tokens" (plist-get st :state) (plist-get st :pack_tokens))))
        (bench-wait (lambda () (equal (plist-get (bench-status server) :state) "ready")) 600)
        (let ((before (plist-get (bench-status server) :active_questions)))
          (bench-phase server "busy")
          (bench-flush (format "ready,%d-questions-running" before)))
        (lore-cancel)
        (jsonrpc-request server :workspace/executeCommand (list :command "lore.cancel"))
        (eglot-shutdown server)))
  (error (write-region (format "emacs error %s\n" (error-message-string err)) nil bench-out t 'silent)))
(kill-emacs 0)
