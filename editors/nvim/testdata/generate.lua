-- Run by nvim_test.go (TestGenerateAppliesEdits) with a real `lore lsp`:
-- :LoreGenerate's lore.generate makes the server run `lore generate`
-- against a loopback larger tier and send workspace/applyEdit; the
-- plugin asks (vim.fn.confirm, answered here) and applies the edits to the
-- buffers. Facts go to _G.lore_test.out as JSON.
local T = _G.lore_test
local out = {}
local api = vim.api
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

-- The user's answer to the confirmation: Apply.
out.confirm = {}
vim.fn.confirm = function(msg, choices, default)
  table.insert(out.confirm, { msg = msg, choices = choices, default = default })
  return 1
end

local ok, err = xpcall(function()
  local bufnr = api.nvim_get_current_buf()
  wait(30000, function()
    for _, cl in pairs(get_clients()) do
      if cl.name == 'lore' and cl.initialized and cl.attached_buffers[bufnr] then
        return true
      end
    end
    return false
  end, 'the lore client to attach to the buffer and initialize')

  require('lore').generate(T.plan, function(e, result)
    out.reply = result or vim.NIL
    out.reply_err = e and (e.message or vim.inspect(e)) or vim.NIL
  end)
  wait(60000, function()
    local text = table.concat(api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
    return text:find('Hello, ', 1, true) ~= nil
  end, 'the edit to reach the buffer')
  out.buffer = table.concat(api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  out.modified = vim.bo[bufnr].modified
  local created = vim.fn.bufnr(T.created)
  out.created = created > 0 and table.concat(api.nvim_buf_get_lines(created, 0, -1, false), '\n') or vim.NIL
end, debug.traceback)
if not ok then
  out.error = err
end
save()
vim.cmd('qa!')
