package lsp

import (
	"encoding/json"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
)

// lore's additions to LSP: two custom requests, the commands and their
// arguments. docs/editors.md documents them for editor plugins; keep the two
// in step. The VS Code extension's TypeScript types are generated from these
// (internal/tsgen, `make generate`).
const (
	// MethodAsk asks a question; partial answer text is streamed as
	// $/progress {token: partialResultToken, value: {text}}.
	MethodAsk = "lore/ask" // AskParams → AskResult
	// MethodStatus returns the daemon's api.Status.
	MethodStatus = "lore/status"
)

// Commands served by workspace/executeCommand.
const (
	CommandAsk              = "lore.ask"
	CommandExplain          = "lore.explain"
	CommandPlan             = "lore.plan"
	CommandStatus           = "lore.status"
	CommandSummarizeChanges = "lore.summarizeChanges"
	// CommandCancel stops answer commands still running: the one whose
	// work-done token its argument {token} names, else all of them.
	CommandCancel = "lore.cancel"
	// CommandGenerate hands a plan to the larger tier and sends its edits
	// to the editor as workspace/applyEdit (lsp/generate.go).
	CommandGenerate = "lore.generate"
)

// Commands lists the commands in the order initialize advertises them.
var Commands = []string{CommandAsk, CommandExplain, CommandPlan, CommandStatus, CommandSummarizeChanges, CommandCancel, CommandGenerate}

// CodeActionKind is the kind of lore's code actions.
const CodeActionKind = protocol.CodeActionKind("lore")

// DefaultPlanSession is the planning session lore.plan continues when its
// arguments name none.
const DefaultPlanSession = "plan"

// TextDocument names a document.
type TextDocument struct {
	URI string `json:"uri"`
}

// AskParams are lore/ask's parameters.
type AskParams struct {
	Question     string          `json:"question"`
	TextDocument *TextDocument   `json:"textDocument,omitempty"`
	Range        *protocol.Range `json:"range,omitempty"`
	Session      string          `json:"session,omitempty"`
	MaxTokens    int             `json:"maxTokens,omitempty"`
	// Plan makes the question a goal: the daemon writes a plan for it
	// (steps, files, risks; its paths checked against the tree), saved as
	// the plan file lore.generate reads, as the lore.plan command does.
	Plan bool `json:"plan,omitempty"`
	// Tokens are numbers or strings; kept raw (see doc.go).
	PartialResultToken json.RawMessage `json:"partialResultToken,omitempty"`
	WorkDoneToken      json.RawMessage `json:"workDoneToken,omitempty"`
}

// CommandStarted is the reply of an answer command (lore.ask,
// lore.explain, lore.plan, lore.summarizeChanges) under the commandReply
// "started" setting: the question was accepted and its answer follows,
// shown as the client's capabilities allow (docs/editors.md).
type CommandStarted struct {
	// Started is always true; it tells this reply from an AskResult.
	Started bool `json:"started"`
	// Command is the command run.
	Command string `json:"command"`
	// Question is the question asked (its first line).
	Question string `json:"question"`
	// Token is the request's work-done token, which the answer's
	// progress and text stream on; omitted when it gave none.
	Token json.RawMessage `json:"token,omitempty"`
	// DocumentURI is the file the answer will be rendered into (the
	// showAnswers "document" setting).
	DocumentURI string `json:"documentUri,omitempty"`
}

// PartialText is the value of a lore/ask partial result: the answer text
// generated since the previous one.
type PartialText struct {
	Text string `json:"text"`
}

// AskResult is lore/ask's result, and the result of the asking commands:
// the daemon's answer under LSP's camelCase names, the question and where the
// answer was shown.
type AskResult struct {
	answer
	// Question is the question asked (the default one when none was given).
	Question string `json:"question"`
	// DocumentURI is the rendered answer shown with window/showDocument
	// (commands only).
	DocumentURI string `json:"documentUri,omitempty"`
}

// answer is api.AskResult with the names lore/ask gives its fields. It is
// converted from api.AskResult, so the compiler keeps the two field lists
// identical; only the JSON names differ.
type answer struct {
	Text            string        `json:"text"`
	TTFTMillis      float64       `json:"ttftMs"`
	PromptTokens    int           `json:"promptTokens"`
	CachedTokens    int           `json:"cachedTokens"`
	PrefilledTokens int           `json:"prefilledTokens"`
	GeneratedTokens int           `json:"generatedTokens"`
	StopReason      string        `json:"stopReason"`
	ElapsedMillis   float64       `json:"elapsedMs"`
	PackVersion     string        `json:"packVersion"`
	Omitted         []api.Omitted `json:"omitted"`
	Retrieved       []string      `json:"retrieved"`
	// RetrievedFull: the retrieved files placed whole (with the pack's
	// files in full, what the answer saw in full); the rest of Retrieved
	// were excerpts.
	RetrievedFull      []string `json:"retrievedFull"`
	RetrievedTokens    int      `json:"retrievedTokens,omitempty"`
	RetrievalAllowance int      `json:"retrievalAllowance,omitempty"`
	QueuedMillis       float64  `json:"queuedMs,omitempty"`
	Session            string   `json:"session,omitempty"`
	SessionTurn        int      `json:"sessionTurn,omitempty"`
	SessionReplayed    bool     `json:"sessionReplayed,omitempty"`
	DiskWarning        string   `json:"diskWarning,omitempty"`
}

func fromAPI(r *api.AskResult, question string) *AskResult {
	out := &AskResult{answer: answer(*r), Question: question}
	if out.Retrieved == nil {
		out.Retrieved = []string{}
	}
	if out.RetrievedFull == nil {
		out.RetrievedFull = []string{}
	}
	if out.Omitted == nil {
		out.Omitted = []api.Omitted{}
	}
	return out
}

// CommandArgs is the one argument of lore.ask, lore.explain and lore.plan
// (and what lore's code actions put in their commands).
type CommandArgs struct {
	URI      string          `json:"uri,omitempty"`
	Range    *protocol.Range `json:"range,omitempty"`
	Question string          `json:"question,omitempty"`
	Session  string          `json:"session,omitempty"`  // lore.plan only
	Plan     string          `json:"plan,omitempty"`     // lore.generate: the plan's name ("" = the newest)
	PlanFile string          `json:"planFile,omitempty"` // lore.generate: a plan file instead
}

// Settings are lore's editor settings: initializationOptions (or its "lore"
// member) and the "lore" section of workspace/configuration.
type Settings struct {
	Hover        bool   `json:"hover"`
	MaxTokens    int    `json:"maxTokens"`
	ShowAnswers  string `json:"showAnswers"`
	CommandReply string `json:"commandReply"`
}

// Ways to show a command's answer.
const (
	ShowDocument = "document"
	ShowMessage  = "message"
	ShowNone     = "none"
)

// When an answer command's reply comes (the commandReply setting).
const (
	// ReplyStarted replies at once with CommandStarted; the answer
	// follows (see command_job.go). No client waits on a daemon.
	ReplyStarted = "started"
	// ReplyAnswer replies with the AskResult once answered: for clients
	// that run commands asynchronously and show the result themselves
	// (the VS Code extension's answer panel).
	ReplyAnswer = "answer"
)

// DefaultSettings are the settings before the editor's.
var DefaultSettings = Settings{Hover: false, MaxTokens: 512, ShowAnswers: ShowDocument, CommandReply: ReplyStarted}

// settingsPatch is what an editor sends: any subset of the settings.
type settingsPatch struct {
	Hover        *bool   `json:"hover"`
	MaxTokens    *int    `json:"maxTokens"`
	ShowAnswers  *string `json:"showAnswers"`
	CommandReply *string `json:"commandReply"`
	Lore         *struct {
		Hover        *bool   `json:"hover"`
		MaxTokens    *int    `json:"maxTokens"`
		ShowAnswers  *string `json:"showAnswers"`
		CommandReply *string `json:"commandReply"`
	} `json:"lore"`
}

// apply merges raw settings (an object, possibly {"lore": {...}}) into s
// and returns what it could not use.
func (s *Settings) apply(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var p settingsPatch
	if err := json.Unmarshal(raw, &p); err != nil {
		return []string{"lore settings: " + err.Error()}
	}
	if p.Lore != nil {
		p.Hover, p.MaxTokens, p.ShowAnswers, p.CommandReply = p.Lore.Hover, p.Lore.MaxTokens, p.Lore.ShowAnswers, p.Lore.CommandReply
	}
	var bad []string
	if p.Hover != nil {
		s.Hover = *p.Hover
	}
	if p.MaxTokens != nil {
		if *p.MaxTokens > 0 {
			s.MaxTokens = *p.MaxTokens
		} else {
			bad = append(bad, "lore settings: maxTokens must be positive")
		}
	}
	if p.ShowAnswers != nil {
		switch *p.ShowAnswers {
		case ShowDocument, ShowMessage, ShowNone:
			s.ShowAnswers = *p.ShowAnswers
		default:
			bad = append(bad, `lore settings: showAnswers must be "document", "message" or "none"`)
		}
	}
	if p.CommandReply != nil {
		switch *p.CommandReply {
		case ReplyStarted, ReplyAnswer:
			s.CommandReply = *p.CommandReply
		default:
			bad = append(bad, `lore settings: commandReply must be "started" or "answer"`)
		}
	}
	return bad
}
