-- Run by nvim_test.go (TestPluginLoads) without a server: the module, the
-- options, the commands, root detection, the answer window and the help
-- file. Facts go to _G.lore_test.out as JSON; the Go test asserts them.
local T = _G.lore_test
local out = {}

local ok, err = xpcall(function()
  local lore = require('lore')
  local config = require('lore.config')
  local client = require('lore.client')

  out.commands = {}
  for _, c in ipairs({ 'LoreAsk', 'LorePlan', 'LoreStatus' }) do
    out.commands[c] = vim.fn.exists(':' .. c) == 2
  end
  local o = config.options
  out.options = { cmd = o.cmd, max_tokens = o.max_tokens, hover = o.hover, border = o.float.border, width = o.float.width, env = o.env }

  out.root_of_file = client.root_for(T.repo .. '/sub/dir/file.go', 0)
  out.root_of_dir = client.root_for(T.repo .. '/sub', 0)
  out.root_outside = client.root_for(T.outside, 0) or vim.NIL

  -- The answer window streams chunks and closes with q.
  local w = require('lore.window').open('test', 'waiting', nil)
  out.placeholder = w:buffer_text()
  w:status('prefilling (50%)')
  out.status_line = w:buffer_text()
  for _, chunk in ipairs({ 'Alpha ', 'greets\n', '', 'by *name*.\n\n', 'Done — ünï 世界' }) do
    w:append(chunk)
  end
  local cfg = vim.api.nvim_win_get_config(w.win)
  out.window = {
    relative = cfg.relative,
    text = w:buffer_text(),
    streamed = w.text,
    filetype = vim.bo[w.buf].filetype,
    wrap = vim.wo[w.win].wrap,
    modifiable = vim.bo[w.buf].modifiable,
    height = vim.api.nvim_win_get_height(w.win),
    current = vim.api.nvim_get_current_win() == w.win,
  }
  vim.cmd('normal q')
  out.window.closed_by_q = not w:valid()
  local w2 = require('lore.window').open('test', 'x', nil)
  vim.cmd('execute "normal \\<Esc>"')
  out.window.closed_by_esc = not w2:valid()

  out.status_markdown = lore.format_status({ state = 'ready', pack_tokens = 1200, progress = { done = 3, total = 4 }, memory_bytes = 3 * 1024 * 1024 })

  -- A question without a server reports why.
  vim.cmd('edit ' .. vim.fn.fnameescape(T.repo .. '/sub/dir/file.go'))
  local msgs = {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(msgs, msg)
  end
  vim.cmd('LoreAsk hello')
  vim.wait(2000, function()
    local a = lore.last_answer()
    return a and a.done
  end, 20)
  vim.notify = notify
  local a = lore.last_answer()
  out.no_server = { done = a and a.done, err = a and a.err, messages = msgs, window = a and a.window:buffer_text() }

  -- :checkhealth lore runs.
  vim.cmd('checkhealth lore')
  out.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')

  -- The help file: tags without duplicates, :help finds them.
  vim.cmd('helptags ' .. vim.fn.fnameescape(T.doc))
  vim.opt.runtimepath:append(vim.fn.fnamemodify(T.doc, ':h'))
  out.help = {}
  for _, tag in ipairs({ 'lore', 'lore-setup', 'lore-options', ':LoreAsk', ':LorePlan', ':LoreStatus', 'lore-code-actions', 'lore-events' }) do
    out.help[tag] = pcall(vim.cmd, 'help ' .. tag)
  end

  -- Ranges (with a stand-in client): :[range]LoreAsk sends whole lines, a
  -- characterwise Visual selection its columns in UTF-16; :LorePlan the
  -- session.
  local sent = {}
  client.attach = function() end
  client.with_client = function(_, fn)
    fn({ offset_encoding = 'utf-16' })
  end
  client.ask = function(_, params, _, h)
    table.insert(sent, params)
    h.on_chunk('ok')
    h.on_done(nil, { text = 'ok' })
    return function() end
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(T.repo .. '/sub/dir/new.txt'))
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'first line', 'ünï 世界 code here', 'third' })
  local function close()
    require('lore.window').current():close()
  end
  vim.cmd('2,3LoreAsk lines')
  close()
  vim.cmd([[execute "normal! 2G0fcvee\<Esc>"]])
  vim.cmd("'<,'>LoreAsk chars")
  close()
  vim.cmd('LorePlan next step')
  close()
  out.sent = sent

  -- Closing the window while an answer streams cancels the question.
  local cancelled = false
  client.ask = function(_, _, _, h)
    h.on_chunk('partial')
    return function()
      cancelled = true
    end
  end
  vim.cmd('LoreAsk a long answer')
  -- A status window opens over it without cancelling it.
  require('lore.window').open('lore status', 'status', nil, 'status'):close()
  out.survived_status = not cancelled and lore.last_answer().window:valid()
  close()
  out.cancelled_on_close = cancelled and not lore.last_answer().done

  -- setup checks the options' types.
  out.bad_option = not pcall(lore.setup, { max_tokens = 'many' })
end, debug.traceback)
if not ok then
  out.error = err
end
local f = assert(io.open(T.out, 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
