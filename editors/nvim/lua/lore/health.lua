-- :checkhealth lore: Neovim, the lore binary, the model the repository's
-- daemon would load, and the daemon itself (which it never starts).
local M = {}

-- vim.health.start (0.9+), vim.health.report_* (0.8) or require('health') (0.7).
local function reporter()
  local h = vim.health
  if h and h.start then
    return h.start, h.ok, h.warn, h.error, h.info
  end
  if not (h and h.report_start) then
    h = require('health')
  end
  return h.report_start, h.report_ok, h.report_warn, h.report_error, h.report_info
end

-- ExitNotRunning is lore's exit status when no daemon serves a repository.
local exit_not_running = 3

-- run runs lore with args (a list: no shell) in the server's environment
-- (setup's env) and returns its output and exit status.
local function run(bin, args, env)
  local cmd = { bin }
  if env and next(env) then
    cmd = { 'env' }
    for k, v in pairs(env) do
      table.insert(cmd, k .. '=' .. tostring(v))
    end
    table.insert(cmd, bin)
  end
  vim.list_extend(cmd, args)
  local out = vim.fn.system(cmd)
  return out, vim.v.shell_error
end

local function decode(text)
  local ok, v = pcall(vim.fn.json_decode, text)
  if ok and type(v) == 'table' then
    return v
  end
  return nil
end

local function size(bytes)
  if type(bytes) ~= 'number' then
    return '?'
  end
  if bytes >= 1e9 then
    return string.format('%.1f GB', bytes / 1e9)
  end
  return string.format('%.1f MB', bytes / 1e6)
end

function M.check()
  local start, ok, warn, error, info = reporter()
  local config = require('lore.config')
  local client = require('lore.client')
  start('lore')
  if vim.fn.has('nvim-0.7') == 1 then
    ok('Neovim 0.7 or newer')
  else
    error('Neovim 0.7 or newer is needed')
  end
  if vim.fn.has('nvim-0.11') == 1 then
    info("vim.lsp.enable('lore') is available (lsp/lore.lua)")
  end
  local opts = config.options
  local cmd = opts.cmd or {}
  local bin = cmd[1]
  if bin and vim.fn.executable(bin) == 1 then
    ok(string.format('server: %s (%s)', table.concat(cmd, ' '), vim.fn.exepath(bin)))
  else
    error(string.format('cannot run %q', tostring(bin)), { 'run `make build` in lore and put bin/ on PATH, or set cmd in require("lore").setup{}' })
    return
  end

  local buf = vim.api.nvim_get_current_buf()
  local path = client.file_buffer(buf) or vim.fn.getcwd()
  local root = client.root_for(path, buf)
  if root then
    info('repository of ' .. path .. ': ' .. root)
  else
    warn('no repository (.git) above ' .. path, { 'lore answers about git repositories: open a file of one' })
  end

  -- The model: the effective `model` setting for the repository (setup's
  -- env, LORE_MODEL, the config files, the models folder's default).
  local args = { 'config', 'show', '--json' }
  if root then
    args = { 'config', 'show', '--repo', root, '--json' }
  end
  local out, code = run(bin, args, opts.env)
  local shown = code == 0 and decode(out) or nil
  local model, source
  for _, v in ipairs(shown and shown.settings or {}) do
    if v.key == 'model' then
      model, source = v.value, v.source
    end
  end
  if not model then
    warn('could not read lore\'s settings: ' .. vim.trim(out))
  elseif vim.fn.filereadable(model) == 1 then
    ok(string.format('model: %s (%s, from %s)', model, size(vim.fn.getfsize(model)), source))
  else
    error(string.format('model %s (from %s) does not exist', model, source), {
      '`lore model ls --recommended` lists models to download, `lore model pull NAME` downloads one and makes it the default',
      '`lore model ls` lists the models you have, `lore model use NAME` picks one',
      'or set env = { LORE_MODEL = "/path/to/model.gguf" } in require("lore").setup{}',
    })
  end

  -- The daemon: asked, never started.
  if root then
    out, code = run(bin, { 'status', '--repo', root, '--json' }, opts.env)
    local s = code == 0 and decode(out) or nil
    if s then
      ok(string.format('daemon for %s: %s, model %s, %s pack tokens', root, tostring(s.state), tostring(s.model), tostring(s.pack_tokens)))
    elseif code == exit_not_running then
      info('no daemon runs for ' .. root .. ': the first question (or lore lsp) starts one, which loads the model')
    else
      warn('lore status failed: ' .. vim.trim(out))
    end
  end

  local any = false
  for r, id in pairs(client.roots()) do
    any = true
    info(string.format('client %d serves %s', id, r))
  end
  if not any then
    info('no lore client runs')
  end
end

return M
