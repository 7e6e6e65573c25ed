-- lore for Neovim: asks lore (a daemon that keeps the repository in a local
-- model's KV cache) through `lore lsp`. See :help lore.
local config = require('lore.config')
local client = require('lore.client')
local window = require('lore.window')

local api = vim.api
local M = {}

local answers = 0
local last -- the state of the last answer (see M.last_answer)
local last_root -- the repository of the last question

local function notify(msg, level)
  vim.notify('lore: ' .. msg, level or vim.log.levels.INFO)
end

local function fire(name)
  if vim.fn.exists('#User#' .. name) == 1 then
    vim.cmd('doautocmd <nomodeline> User ' .. name)
  end
end

local function blank(s)
  return type(s) ~= 'string' or s:match('^%s*$') ~= nil
end

-- The buffer, file and repository a question is about. opts.uri (with
-- opts.lsp_range) comes from a code action; otherwise the current buffer,
-- and opts.line1/line2 when a command was given a range.
local function question_context(opts)
  local ctx = {}
  if opts.uri then
    ctx.uri = opts.uri
    ctx.path = vim.uri_to_fname(opts.uri)
    ctx.bufnr = vim.uri_to_bufnr(opts.uri)
    ctx.lsp_range = opts.lsp_range
    local c = opts.client_id and vim.lsp.get_client_by_id(opts.client_id)
    ctx.root = (c and c.config and c.config.root_dir) or client.root_for(ctx.path, ctx.bufnr)
    last_root = ctx.root or last_root
    return ctx
  end
  local bufnr = api.nvim_get_current_buf()
  local path = client.file_buffer(bufnr)
  if path then
    ctx.root = client.root_for(path, bufnr)
  end
  if ctx.root then
    ctx.bufnr = bufnr
    ctx.path = path
    ctx.uri = vim.uri_from_bufnr(bufnr)
    if opts.line1 then
      -- A charwise visual selection keeps its columns; other ranges are
      -- whole lines. Columns are 0-based bytes, end exclusive.
      local l1, l2 = opts.line1, opts.line2
      local last_line = api.nvim_buf_get_lines(bufnr, l2 - 1, l2, false)[1] or ''
      local vs = api.nvim_buf_get_mark(bufnr, '<')
      local ve = api.nvim_buf_get_mark(bufnr, '>')
      if vim.fn.visualmode() == 'v' and vs[1] == l1 and ve[1] == l2 then
        local ecol = math.min(ve[2], #last_line)
        local ch = vim.fn.strcharpart(last_line:sub(ecol + 1), 0, 1)
        ctx.bytes = { l1 - 1, vs[2], l2 - 1, ecol + #ch }
      else
        ctx.bytes = { l1 - 1, 0, l2 - 1, #last_line }
      end
    end
  elseif last_root and client.client_for(last_root) then
    -- Not a file of a repository (e.g. lore's own window): the repository
    -- of the last question.
    ctx.root = last_root
  else
    ctx.root = client.root_for(vim.fn.getcwd(), bufnr)
  end
  if ctx.root then
    last_root = ctx.root
  end
  return ctx
end

local function lsp_range(ctx, c)
  if ctx.lsp_range then
    return ctx.lsp_range
  end
  if not ctx.bytes then
    return nil
  end
  local enc = c.offset_encoding or 'utf-16'
  local function pos(row, col)
    if col > 0 then
      col = vim.lsp.util.character_offset(ctx.bufnr, row, col, enc)
    end
    return { line = row, character = col }
  end
  local b = ctx.bytes
  return { start = pos(b[1], b[2]), ['end'] = pos(b[3], b[4]) }
end

local function summary(r)
  local parts = {
    string.format('%d tokens', r.generatedTokens or 0),
    string.format('first token after %d ms', math.floor((r.ttftMs or 0) + 0.5)),
    string.format('%d of %d prompt tokens cached', r.cachedTokens or 0, r.promptTokens or 0),
  }
  if (r.prefilledTokens or 0) > 0 then
    table.insert(parts, string.format('%d prefilled', r.prefilledTokens))
  end
  if r.session and r.session ~= '' then
    table.insert(parts, string.format('session %s turn %d%s', r.session, r.sessionTurn or 0, r.sessionReplayed and ' (replayed)' or ''))
  end
  if r.stopReason and r.stopReason ~= '' then
    table.insert(parts, 'stop: ' .. r.stopReason)
  end
  return table.concat(parts, ', ')
end

-- The placeholder line for work-done progress: its message (the title is
-- the question, which the window already belongs to).
local function progress_line(v)
  local what = v.message
  if type(what) ~= 'string' or what == '' then
    what = type(v.title) == 'string' and v.title ~= '' and v.title or 'working'
  end
  local line = 'lore: ' .. what:gsub('^lore: ', '')
  if type(v.percentage) == 'number' then
    line = line .. string.format(' (%d%%)', v.percentage)
  end
  return line .. '…'
end

-- M.ask asks question (prompting for it when empty) and streams the answer
-- into the floating window. opts: line1/line2 (a range of the current
-- buffer), session (a planning session), uri/lsp_range/client_id (from a
-- code action).
function M.ask(question, opts)
  opts = opts or {}
  if blank(question) then
    vim.ui.input({ prompt = opts.session and 'Plan with lore: ' or 'Ask lore: ' }, function(input)
      if not blank(input) then
        M.ask(input, opts)
      end
    end)
    return
  end
  local ctx = question_context(opts)
  if not ctx.root then
    notify('no repository here (no .git folder above the file or the current folder)', vim.log.levels.ERROR)
    return
  end
  if ctx.bufnr then
    -- Questions see the buffer's unsaved text, whatever the filetypes option.
    client.attach(ctx.bufnr, true)
  end
  answers = answers + 1
  local answer = { id = answers, question = question, updates = 0, done = false }
  last = answer
  local title = 'lore: ' .. (#question > 60 and question:sub(1, 57) .. '...' or question)
  answer.window = window.open(title, 'lore: starting…', function()
    if not answer.done and answer.cancel then
      answer.cancel()
    end
  end)
  local function finish(err)
    answer.done = true
    answer.err = err
    fire('LoreAnswerDone')
  end
  client.with_client(ctx.root, function(c, err)
    if not c then
      answer.window:status('lore: ' .. tostring(err))
      notify(tostring(err), vim.log.levels.ERROR)
      finish(err)
      return
    end
    local params = { question = question, session = opts.session, maxTokens = config.options.max_tokens, plan = opts.plan }
    if ctx.uri then
      params.textDocument = { uri = ctx.uri }
      params.range = lsp_range(ctx, c)
    end
    answer.params = vim.deepcopy(params)
    answer.window:status('lore: thinking…')
    answer.cancel = client.ask(c, params, ctx.bufnr, {
      on_chunk = function(text)
        answer.updates = answer.updates + 1
        answer.window:append(text)
        fire('LoreAnswerUpdate')
      end,
      on_progress = function(v)
        if v.kind ~= 'end' then
          answer.window:status(progress_line(v))
        end
      end,
      on_done = function(rerr, result)
        local w = answer.window
        if rerr then
          local msg = type(rerr) == 'table' and (rerr.message or vim.inspect(rerr)) or tostring(rerr)
          if type(rerr) == 'table' and rerr.code == -32800 then
            msg = 'cancelled'
          else
            notify(msg, vim.log.levels.ERROR)
          end
          if w.placeholder then
            w:status('lore: ' .. msg)
          else
            w:append('\n\n**lore: ' .. msg .. '**')
          end
          finish(msg)
          return
        end
        answer.result = result
        answer.streamed = w.text
        local text = type(result) == 'table' and result.text or ''
        if w.placeholder and text == '' then
          w:status('_(empty answer)_')
        elseif w.placeholder or w.text ~= text then
          -- Not streamed (or streamed differently): show the final text.
          w:set_text(text)
        end
        if type(result) == 'table' then
          notify(summary(result))
        end
        finish(nil)
      end,
    })
  end)
end

-- M.plan asks the daemon for a plan (steps, files to change or create,
-- risks) in the planning session (the plan_session option), saved as the
-- plan file that :LoreGenerate hands to the larger tier.
function M.plan(question, opts)
  opts = vim.tbl_extend('force', opts or {}, { session = config.options.plan_session, plan = true })
  M.ask(question, opts)
end

-- M.generate hands a plan (its name; nil: the newest) to the larger tier
-- configured under [tier.large]: the server runs `lore generate` and sends
-- the edits back as workspace/applyEdit, which asks before applying
-- (confirm_edits). fn(err, result), when given, gets the command's reply.
function M.generate(plan, fn)
  local bufnr = api.nvim_get_current_buf()
  local root = client.root_for(api.nvim_buf_get_name(bufnr), bufnr)
  if not root then
    notify('this buffer is not in a repository lore serves', vim.log.levels.ERROR)
    return
  end
  client.with_client(root, function(c, err)
    if not c then
      notify(err or 'the lore server is not running', vim.log.levels.ERROR)
      return
    end
    local args = {}
    if plan and plan ~= '' then
      args.plan = plan
    end
    client.request(c, 'workspace/executeCommand', { command = 'lore.generate', arguments = { args } }, function(e, result)
      if e then
        notify('lore.generate: ' .. (e.message or vim.inspect(e)), vim.log.levels.ERROR)
      else
        notify('the larger tier is writing the code; its edits will be offered for applying')
      end
      if fn then
        fn(e, result)
      end
    end, bufnr)
  end)
end

local function human_bytes(n)
  local units = { 'B', 'KiB', 'MiB', 'GiB', 'TiB' }
  local i = 1
  while n >= 1024 and i < #units do
    n = n / 1024
    i = i + 1
  end
  return i == 1 and string.format('%d B', n) or string.format('%.1f %s', n, units[i])
end

local function scalar(v)
  if type(v) == 'number' then
    if v == math.floor(v) then
      return string.format('%d', v)
    end
    return string.format('%.1f', v)
  end
  return tostring(v)
end

-- M.format_status renders lore/status's result as Markdown lines.
function M.format_status(st)
  local lines = { '# lore status', '' }
  local seen = {}
  local function add(key, value)
    table.insert(lines, string.format('- **%s**: %s', key, value))
  end
  local order = {
    'state', 'error', 'model', 'pack_tokens', 'pack_version', 'kv_tokens', 'overlay_tokens', 'stale_tokens',
    'progress', 'prefilled_tokens', 'restored_tokens', 'segments', 'files', 'skipped', 'omitted', 'buffers',
    'sessions', 'active_questions', 'queued_questions', 'prefill_tokens_per_sec', 'decode_tokens_per_sec',
    'memory_bytes', 'snapshot_bytes', 'context_size', 'uptime_seconds', 'model_path', 'pid',
  }
  local function show(k, v)
    if v == nil or v == vim.NIL then
      return
    end
    if k == 'progress' and type(v) == 'table' then
      local pct = (v.total or 0) > 0 and math.floor(100 * (v.done or 0) / v.total) or 100
      add(k, string.format('%s of %s tokens (%d%%)', scalar(v.done or 0), scalar(v.total or 0), pct))
    elseif type(v) == 'table' then
      local n = 0
      for _ in pairs(v) do
        n = n + 1
      end
      add(k, string.format('%d', n))
    elseif k:match('_bytes$') and type(v) == 'number' then
      add(k, human_bytes(v))
    else
      add(k, scalar(v))
    end
  end
  if type(st) ~= 'table' then
    return { '# lore status', '', tostring(st) }
  end
  for _, k in ipairs(order) do
    seen[k] = true
    show(k, st[k])
  end
  local rest = {}
  for k in pairs(st) do
    if not seen[k] then
      table.insert(rest, k)
    end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do
    show(k, st[k])
  end
  return lines
end

-- M.status shows the repository daemon's status in the floating window.
function M.status()
  local ctx = question_context({})
  if not ctx.root then
    notify('no repository here (no .git folder above the file or the current folder)', vim.log.levels.ERROR)
    return
  end
  client.with_client(ctx.root, function(c, err)
    if not c then
      notify(tostring(err), vim.log.levels.ERROR)
      return
    end
    client.request(c, 'lore/status', nil, function(rerr, result)
      if rerr then
        notify(rerr.message or vim.inspect(rerr), vim.log.levels.ERROR)
        return
      end
      local w = window.open('lore status', '', nil, 'status')
      w:set_text(table.concat(M.format_status(result), '\n'))
      M._last_status = result
      fire('LoreStatus')
    end, ctx.bufnr)
  end)
end

-- M._command runs the client-side command of a code action (lore.ask,
-- lore.explain, lore.plan). Its argument is one object {uri, range,
-- question?, session?} (uri, range, question positionally also work).
function M._command(kind, command, ctx)
  local args = command.arguments or {}
  local uri, range, question, session
  local a = args[1]
  if type(a) == 'table' then
    uri, range, question, session = a.uri, a.range, a.question, a.session
  else
    uri, range, question = args[1], args[2], args[3]
  end
  if blank(question) then
    question = nil
  end
  local opts = { client_id = ctx and ctx.client_id }
  if type(uri) == 'string' and uri ~= '' then
    opts.uri = uri
    opts.lsp_range = type(range) == 'table' and range or nil
  end
  if kind == 'explain' then
    M.ask(question or config.options.explain_question, opts)
  elseif kind == 'plan' then
    if not blank(session) then
      opts.session = session
      opts.plan = true
      M.ask(question, opts)
    else
      M.plan(question, opts)
    end
  else
    M.ask(question, opts)
  end
end

-- M.last_answer returns the state of the last question: question, params
-- (as sent), updates (streamed chunks so far), done, err, result, streamed
-- (the text streamed before the result), window (buf, win, text).
function M.last_answer()
  return last
end

local function range_opts(o)
  if o.range and o.range > 0 then
    return { line1 = o.line1, line2 = o.line2 }
  end
  return {}
end

-- M.create_commands defines :LoreAsk, :LorePlan, :LoreGenerate and :LoreStatus.
function M.create_commands()
  api.nvim_create_user_command('LoreAsk', function(o)
    M.ask(o.args, range_opts(o))
  end, { nargs = '*', range = true, desc = 'Ask lore about the repository (a range: about those lines)' })
  api.nvim_create_user_command('LorePlan', function(o)
    M.plan(o.args, range_opts(o))
  end, { nargs = '*', range = true, desc = "Continue lore's planning session" })
  api.nvim_create_user_command('LoreGenerate', function(o)
    M.generate(o.args)
  end, { nargs = '?', desc = 'Hand a plan (default: the newest) to the larger tier and apply its edits' })
  api.nvim_create_user_command('LoreStatus', function()
    M.status()
  end, { nargs = 0, desc = "Show the lore daemon's status" })
end

-- M.setup configures lore and starts attaching the file buffers of
-- repositories (see :help lore-options).
function M.setup(opts)
  config.set(opts)
  M.create_commands()
  local group = api.nvim_create_augroup('lore', { clear = true })
  if not config.options.autostart then
    return
  end
  local function attach(args)
    client.attach(args.buf)
  end
  if config.options.filetypes then
    api.nvim_create_autocmd('FileType', { group = group, pattern = config.options.filetypes, callback = attach })
  else
    api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, { group = group, pattern = '*', callback = attach })
  end
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) then
      client.attach(b)
    end
  end
end

return M
