-- :checkhealth lore
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
  local cmd = config.options.cmd or {}
  if cmd[1] and vim.fn.executable(cmd[1]) == 1 then
    ok(string.format('server: %s (%s)', table.concat(cmd, ' '), vim.fn.exepath(cmd[1])))
  else
    error(string.format('cannot run %q', tostring(cmd[1])), { 'run `make build` in lore and put bin/ on PATH, or set cmd in require("lore").setup{}' })
  end
  local buf = vim.api.nvim_get_current_buf()
  local path = client.file_buffer(buf) or vim.fn.getcwd()
  local root = client.root_for(path, buf)
  if root then
    info('repository of ' .. path .. ': ' .. root)
  else
    warn('no repository (.git) above ' .. path)
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
