-- Run by nvim_test.go (TestLspEnable) with a real `lore lsp` and daemon on
-- the tiny model. setup{ autostart = false } attached nothing; lsp/lore.lua
-- starts the client: through vim.lsp.enable('lore') on Neovim 0.11 and
-- newer, and on older ones by doing what vim.lsp.enable does with the
-- config (root_dir's callback, then start and attach). Then :checkhealth
-- lore, before and after the daemon is ready. Facts go to
-- _G.lore_test.out as JSON; the Go test asserts them.
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
  if not vim.wait(ms, cond, 20) then
    error('timed out after ' .. ms .. ' ms waiting for ' .. what)
  end
end

local function health()
  vim.cmd('checkhealth lore')
  local text = table.concat(api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  return text
end

local ok, err = xpcall(function()
  local lore_client = require('lore.client')
  local bufnr = api.nvim_get_current_buf()
  out.file = api.nvim_buf_get_name(bufnr)
  out.health_before = health()
  out.enable = vim.lsp.enable ~= nil
  out.lsp_files = api.nvim_get_runtime_file('lsp/lore.lua', true)
  if vim.lsp.enable then
    vim.lsp.enable('lore')
  else
    local cfg = dofile(out.lsp_files[1])
    cfg.name = 'lore'
    cfg.root_dir(bufnr, function(root)
      local c = vim.tbl_extend('force', cfg, {
        root_dir = root,
        workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      })
      local id = assert(vim.lsp.start_client(c))
      vim.lsp.buf_attach_client(bufnr, id)
    end)
  end
  local attached
  wait(30000, function()
    for _, c in pairs(get_clients()) do
      if c.name == 'lore' and c.initialized and vim.lsp.buf_is_attached(bufnr, c.id) then
        attached = c
        return true
      end
    end
    return false
  end, 'a lore client attached to the buffer')
  out.clients = 0
  for _, c in pairs(get_clients()) do
    if c.name == 'lore' then
      out.clients = out.clients + 1
    end
  end
  out.root = attached.config.root_dir
  -- The plugin knows the client: :LoreAsk uses it rather than start another.
  out.registered = lore_client.client_for(out.root) ~= nil and lore_client.client_for(out.root).id == attached.id

  -- Wait for the daemon to be ready, then a question through the plugin.
  local state
  wait(60000, function()
    lore_client.request(attached, 'lore/status', vim.empty_dict(), function(e, r)
      state = (not e and type(r) == 'table') and r.state or state
    end, bufnr)
    vim.wait(200)
    return state == 'ready'
  end, 'the daemon to be ready')
  vim.cmd('LoreAsk ' .. T.question)
  local lore = require('lore')
  wait(60000, function()
    local a = lore.last_answer()
    return a and a.done
  end, 'the answer')
  local a = lore.last_answer()
  out.answer = { err = a.err or vim.NIL, text = a.result and a.result.text or vim.NIL }
  out.clients_after = 0
  for _, c in pairs(get_clients()) do
    if c.name == 'lore' then
      out.clients_after = out.clients_after + 1
    end
  end
  vim.cmd('buffer ' .. bufnr)
  out.health = health()
end, debug.traceback)
if not ok then
  out.error = tostring(err)
end
save()
vim.cmd('qa!')
