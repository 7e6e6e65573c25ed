-- Run by nvim_test.go (TestEndToEnd) with a real `lore lsp` and daemon on
-- the tiny model: :LoreAsk streams into the float, the code action menu
-- runs lore.ask through the client-side command, :LoreStatus. Facts go to
-- _G.lore_test.out as JSON; the Go test asserts them.
local T = _G.lore_test
local out = {}
local api = vim.api
local call = require('lore.client').call
local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients

local function save()
  local f = assert(io.open(T.out, 'w'))
  f:write(vim.fn.json_encode(out))
  f:close()
end

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 10) then
    error('timed out after ' .. ms .. ' ms waiting for ' .. what)
  end
end

local function answer_facts(a)
  local w = a.window
  return {
    id = a.id,
    done = a.done,
    err = a.err or vim.NIL,
    updates = a.updates,
    params = a.params,
    result = a.result,
    streamed = a.streamed,
    buffer = w:buffer_text(),
    valid = w:valid(),
  }
end

local ok, err = xpcall(function()
  local lore = require('lore')
  local bufnr = api.nvim_get_current_buf()
  out.file = api.nvim_buf_get_name(bufnr)

  local c
  wait(30000, function()
    for _, cl in pairs(get_clients()) do
      if cl.name == 'lore' and cl.initialized and cl.attached_buffers[bufnr] then
        c = cl
        return true
      end
    end
    return false
  end, 'the lore client to attach to the buffer and initialize')
  local caps = c.server_capabilities or {}
  out.client = {
    root = c.config.root_dir,
    count = #get_clients(),
    commands = caps.executeCommandProvider and caps.executeCommandProvider.commands or vim.NIL,
    code_actions = caps.codeActionProvider ~= nil,
  }

  -- An unsaved edit: the server hears of it through didChange.
  api.nvim_buf_set_lines(bufnr, -1, -1, false, { '// an unsaved line' })

  -- 1. :LoreAsk streams into the floating window.
  local log = {}
  api.nvim_create_autocmd('User', {
    pattern = 'LoreAnswerUpdate',
    callback = function()
      local a = lore.last_answer()
      if a.id == 1 then
        table.insert(log, { done = a.done, text = a.window:buffer_text() })
      end
    end,
  })
  vim.cmd('LoreAsk ' .. T.question)
  local a = lore.last_answer()
  local win = a.window.win
  out.ask_float = {
    relative = api.nvim_win_get_config(win).relative,
    filetype = vim.bo[a.window.buf].filetype,
    wrap = vim.wo[win].wrap,
    current = api.nvim_get_current_win() == win,
  }
  wait(60000, function()
    return a.done
  end, 'the answer to :LoreAsk')
  out.ask = answer_facts(a)
  out.ask.log = log
  api.nvim_set_current_win(win)
  vim.cmd('normal q')
  out.ask.closed_by_q = not api.nvim_win_is_valid(win)

  -- 2. Code actions on a visual selection (lines 3-5).
  api.nvim_set_current_buf(bufnr)
  vim.cmd([[execute "normal! 3GVjj\<Esc>"]])
  local params = vim.lsp.util.make_given_range_params(nil, nil, bufnr, c.offset_encoding)
  params.context = { diagnostics = {} }
  out.action_range = params.range
  local resp = call(c, 'request_sync', 'textDocument/codeAction', params, 10000, bufnr)
  out.actions = resp and resp.result or vim.NIL
  out.actions_err = resp and resp.err or vim.NIL

  -- The standard menu: choose "Ask lore about this", type a question.
  local before = lore.last_answer().id
  vim.ui.select = function(items, _, on_choice)
    out.menu = {}
    local pick
    for _, item in ipairs(items) do
      table.insert(out.menu, item[2].title)
      if item[2].title == T.action_title then
        pick = item
      end
    end
    on_choice(pick)
  end
  vim.ui.input = function(o, on_confirm)
    out.input_prompt = o.prompt
    on_confirm(T.question2)
  end
  if vim.fn.has('nvim-0.8') == 1 then
    vim.lsp.buf.code_action({ range = { start = { 3, 0 }, ['end'] = { 5, 0 } } })
  else
    vim.lsp.buf.range_code_action()
  end
  wait(15000, function()
    local l = lore.last_answer()
    return l.id ~= before
  end, 'the code action to ask')
  local a2 = lore.last_answer()
  wait(60000, function()
    return a2.done
  end, 'the answer to the code action')
  out.action_answer = answer_facts(a2)

  -- 3. :LoreStatus.
  lore._last_status = nil
  vim.cmd('LoreStatus')
  wait(15000, function()
    return lore._last_status ~= nil
  end, ':LoreStatus')
  out.status = lore._last_status
  out.status_window = require('lore.window').current('status'):buffer_text()
end, debug.traceback)
if not ok then
  out.error = err
end
save()
vim.cmd('qa!')
