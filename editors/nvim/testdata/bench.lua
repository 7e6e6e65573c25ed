-- How long lore's commands hold Neovim (scripts/bench-editors.sh). With the
-- plugin set up on $LORE_BENCH_FILE, times $LORE_BENCH_N times per phase:
--   sync      a blocking workspace/executeCommand lore.ask
--             (client.request_sync: what a client that waits for a
--             command's reply, as eglot does, is held for)
--   lore-ask  the plugin's require('lore').ask (lore/ask, asynchronous)
--   exec      vim.lsp.buf.execute_command (Neovim's own, asynchronous)
-- Phases: cold (the daemon starting), busy (ready, questions running).
-- Each sample is a line "nvim PATH PHASE DAEMON-STATE MS" in $LORE_BENCH_OUT.
local out = assert(io.open(os.getenv('LORE_BENCH_OUT'), 'a'))
local n = tonumber(os.getenv('LORE_BENCH_N') or '5')
local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
local hr = vim.loop.hrtime

local samples = {}
local function record(path, phase, _, ms)
  table.insert(samples, { path, phase, ms })
end
-- flush writes the samples taken, labelled with the daemon's state then.
local function flush(state)
  for _, s in ipairs(samples) do
    out:write(string.format('nvim %s %s %s %.2f\n', s[1], s[2], state, s[3]))
  end
  out:flush()
  samples = {}
end

local function time(f)
  local t0 = hr()
  f()
  return (hr() - t0) / 1e6
end

local ok, err = pcall(function()
  local lore = require('lore')
  local bufnr = vim.api.nvim_get_current_buf()
  local c
  assert(vim.wait(60000, function()
    for _, cl in pairs(get_clients()) do
      if cl.name == 'lore' and cl.initialized and cl.attached_buffers[bufnr] then
        c = cl
        return true
      end
    end
    return false
  end, 10), 'the lore client did not attach')
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  local uri = vim.uri_from_bufnr(bufnr)
  local arg = { uri = uri, range = { start = { line = 3, character = 0 }, ['end'] = { line = 3, character = 0 } } }
  local function phase(name, state)
    for _ = 1, n do
      record('sync', name, state, time(function()
        c.request_sync('workspace/executeCommand', { command = 'lore.ask', arguments = { arg } }, 120000, bufnr)
      end))
      record('lore-ask', name, state, time(function()
        lore.ask('What does this do?', {})
      end))
      record('exec', name, state, time(function()
        vim.lsp.buf.execute_command({ command = 'lore.ask', arguments = { arg } })
      end))
      vim.wait(50)
    end
  end
  local function status()
    local r = c.request_sync('lore/status', vim.empty_dict(), 300000, bufnr)
    return r and r.result or {}
  end
  -- The daemon is starting; its state once the phase is over says what it
  -- was doing.
  phase('cold')
  local st = status()
  flush(tostring(st.state) .. '-at-end,pack-' .. tostring(st.pack_tokens) .. '-tokens')
  assert(vim.wait(600000, function() return status().state == 'ready' end, 200), 'the daemon did not get ready')
  local before = status().active_questions
  phase('busy')
  flush('ready,' .. tostring(before) .. '-questions-running')
  c.request_sync('workspace/executeCommand', { command = 'lore.cancel' }, 10000, bufnr)
end)
if not ok then
  out:write('nvim error ' .. tostring(err):gsub('\n', ' ') .. '\n')
end
out:close()
vim.cmd('qa!')
