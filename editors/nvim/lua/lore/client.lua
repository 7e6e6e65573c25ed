-- The `lore lsp` clients: one per repository root, the buffers attached to
-- them, and the streaming `lore/ask` request.
local config = require('lore.config')

local api = vim.api
local uv = vim.loop
local M = {}

local roots = {} -- root folder -> client id
local waiting = {} -- client id -> callbacks waiting for its initialization
local routes = {} -- $/progress token -> function(value)
local counter = 0

-- Neovim 0.11 made the client's functions methods (client:request()).
local methods = vim.fn.has('nvim-0.11') == 1

-- M.call(client, 'request', ...) calls a client function in the style of
-- the running Neovim version.
function M.call(client, name, ...)
  if methods then
    return client[name](client, ...)
  end
  return client[name](...)
end

local function notify(msg, level)
  vim.schedule(function()
    vim.notify('lore: ' .. msg, level or vim.log.levels.INFO)
  end)
end

local function strip(dir)
  if #dir > 1 then
    dir = dir:gsub('/+$', '')
  end
  return dir
end

-- M.find_root returns the nearest folder at or above path that holds a
-- .git entry (folder or file), or nil.
function M.find_root(path)
  if not path or path == '' then
    return nil
  end
  path = vim.fn.fnamemodify(path, ':p')
  local stat = uv.fs_stat(path)
  local dir = (stat and stat.type == 'directory') and path or vim.fn.fnamemodify(path, ':h')
  dir = strip(dir)
  while true do
    if uv.fs_stat(dir .. '/.git') then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

-- M.root_for applies the root_dir option to a path.
function M.root_for(path, bufnr)
  local r = config.options.root_dir
  if type(r) == 'string' then
    return strip(vim.fn.fnamemodify(r, ':p'))
  elseif type(r) == 'function' then
    local root = r(path, bufnr)
    return root and strip(vim.fn.fnamemodify(root, ':p')) or nil
  end
  return M.find_root(path)
end

-- M.file_buffer says whether bufnr is a loaded buffer of a file (not a
-- scratch, help, terminal or URL buffer) and returns its path.
function M.file_buffer(bufnr)
  if not api.nvim_buf_is_valid(bufnr) or not api.nvim_buf_is_loaded(bufnr) then
    return nil
  end
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  local path = vim.fn.fnamemodify(name, ':p')
  local stat = uv.fs_stat(path)
  if stat and stat.type ~= 'file' then
    return nil
  end
  return path
end

local function on_progress(err, result, ctx, cfg)
  local token = type(result) == 'table' and result.token or nil
  local route = token ~= nil and routes[token] or nil
  if route then
    route(result.value)
    return
  end
  local default = vim.lsp.handlers['$/progress']
  if default then
    return default(err, result, ctx, cfg)
  end
end

-- on_apply_edit serves workspace/applyEdit (lore.generate's edits): it
-- lists the files, asks for a confirmation (the confirm_edits option),
-- then applies them with vim.lsp.util.apply_workspace_edit.
local function on_apply_edit(_, result, ctx)
  if type(result) ~= 'table' or type(result.edit) ~= 'table' then
    return { applied = false, failureReason = 'no edit' }
  end
  local files, seen = {}, {}
  for _, ch in ipairs(result.edit.documentChanges or {}) do
    local uri = ch.uri or (ch.textDocument and ch.textDocument.uri)
    if uri and not seen[uri] then
      seen[uri] = true
      local what = ch.kind or 'change'
      table.insert(files, string.format('  %s %s', what, vim.fn.fnamemodify(vim.uri_to_fname(uri), ':~:.')))
    end
  end
  if config.options.confirm_edits then
    local msg = (result.label or 'lore: edits') .. '\n' .. table.concat(files, '\n') .. '\nApply these edits?'
    if vim.fn.confirm(msg, '&Apply\n&Cancel', 2) ~= 1 then
      return { applied = false, failureReason = 'declined in Neovim' }
    end
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, result.edit, client and client.offset_encoding or 'utf-16')
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  return { applied = true }
end

-- The handlers and client-side commands of lore's client, the same whether
-- M.start or vim.lsp.enable (M.lsp_config) starts it.
local handlers = { ['$/progress'] = on_progress, ['workspace/applyEdit'] = on_apply_edit }
local commands = {}
for _, kind in ipairs({ 'ask', 'explain', 'plan' }) do
  commands['lore.' .. kind] = function(command, ctx)
    require('lore')._command(kind, command, ctx)
  end
end

local function run_waiting(id, client, err)
  local list = waiting[id]
  waiting[id] = nil
  for _, fn in ipairs(list or {}) do
    local ok, e = pcall(fn, client, err)
    if not ok then
      notify(tostring(e), vim.log.levels.ERROR)
    end
  end
end

local function live(id)
  local client = id and vim.lsp.get_client_by_id(id)
  if client and not M.call(client, 'is_stopped') then
    return client
  end
  return nil
end

-- M.start returns the id of root's client, starting it if needed, or nil
-- and a reason.
function M.start(root)
  local id = roots[root]
  if live(id) then
    return id
  end
  roots[root] = nil
  local opts = config.options
  local cmd = opts.cmd or {}
  if not cmd[1] or vim.fn.executable(cmd[1]) ~= 1 then
    return nil, string.format('cannot run %q: install lore or set cmd in require("lore").setup{}', tostring(cmd[1]))
  end
  local cfg = {
    name = 'lore',
    cmd = cmd,
    cmd_cwd = root,
    cmd_env = opts.env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    -- The server reads these from initializationOptions and from the
    -- "lore" section of workspace/configuration.
    init_options = { hover = opts.hover, maxTokens = opts.max_tokens },
    settings = { lore = { hover = opts.hover, maxTokens = opts.max_tokens } },
    handlers = handlers,
    commands = commands,
    flags = { debounce_text_changes = 150 },
    on_attach = opts.on_attach,
    on_init = function(client)
      if not opts.hover then
        if client.server_capabilities then
          client.server_capabilities.hoverProvider = false
        end
        if vim.fn.has('nvim-0.8') == 0 and client.resolved_capabilities then
          client.resolved_capabilities.hover = false
        end
      end
      local cid = client.id
      vim.schedule(function()
        run_waiting(cid, client)
      end)
    end,
    on_exit = function(code, signal, cid)
      vim.schedule(function()
        if roots[root] == cid then
          roots[root] = nil
        end
        run_waiting(cid, nil, string.format('`%s` exited (code %s, signal %s); see :LspLog', table.concat(cmd, ' '), tostring(code), tostring(signal)))
        if code ~= 0 then
          notify(string.format('the server for %s exited with code %s', root, tostring(code)), vim.log.levels.WARN)
        end
      end)
    end,
  }
  if methods then
    id = vim.lsp.start(cfg, {
      attach = false,
      reuse_client = function()
        return false
      end,
    })
  else
    id = vim.lsp.start_client(cfg)
  end
  if not id then
    return nil, 'could not start ' .. table.concat(cmd, ' ')
  end
  roots[root] = id
  return id
end

-- M.lsp_config is the client configuration for Neovim 0.11's
-- vim.lsp.config / vim.lsp.enable('lore') (lsp/lore.lua returns it): the
-- same server, handlers and commands as M.start, attached to the file
-- buffers of a repository (root_dir calls back only for those), with every
-- filetype. A client it starts is registered as its root's, so :LoreAsk and
-- the code actions use it instead of starting a second one.
function M.lsp_config()
  local opts = config.options
  return {
    cmd = opts.cmd,
    cmd_env = opts.env,
    root_dir = function(bufnr, on_dir)
      local path = M.file_buffer(bufnr)
      local root = path and M.root_for(path, bufnr)
      if root then
        on_dir(root)
      end
    end,
    init_options = { hover = opts.hover, maxTokens = opts.max_tokens },
    settings = { lore = { hover = opts.hover, maxTokens = opts.max_tokens } },
    handlers = handlers,
    commands = commands,
    on_attach = opts.on_attach,
    on_init = function(client)
      if not opts.hover and client.server_capabilities then
        client.server_capabilities.hoverProvider = false
      end
      local root = client.root_dir or (client.config and client.config.root_dir)
      if root and not live(roots[strip(root)]) then
        roots[strip(root)] = client.id
      end
      local cid = client.id
      vim.schedule(function()
        run_waiting(cid, client)
      end)
    end,
  }
end

-- M.attach attaches a file buffer of a repository to the repository's
-- client (starting it); force ignores the filetypes option.
function M.attach(bufnr, force)
  local path = M.file_buffer(bufnr)
  if not path then
    return nil
  end
  local fts = config.options.filetypes
  if fts and not force and not vim.tbl_contains(fts, vim.bo[bufnr].filetype) then
    return nil
  end
  local root = M.root_for(path, bufnr)
  if not root then
    return nil
  end
  local id, err = M.start(root)
  if not id then
    notify(err, vim.log.levels.ERROR)
    return nil
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

-- M.with_client calls fn(client) once root's client is initialized, or
-- fn(nil, reason).
function M.with_client(root, fn)
  local id, err = M.start(root)
  if not id then
    fn(nil, err)
    return
  end
  local client = vim.lsp.get_client_by_id(id)
  if client and client.initialized then
    fn(client)
    return
  end
  waiting[id] = waiting[id] or {}
  table.insert(waiting[id], fn)
end

-- M.client_for returns the running client of root, if any.
function M.client_for(root)
  return live(roots[root])
end

-- M.ask sends a lore/ask request whose answer streams as partial results:
-- h.on_chunk(text) per chunk, h.on_progress(value) for work-done progress
-- (prefill), h.on_done(err, result) at the end. It returns a function that
-- cancels the request.
function M.ask(client, params, bufnr, h)
  counter = counter + 1
  local partial = 'lore-answer-' .. counter
  local work = 'lore-work-' .. counter
  params.partialResultToken = partial
  params.workDoneToken = work
  routes[partial] = function(value)
    if type(value) == 'table' then
      value = value.text
    end
    if type(value) == 'string' then
      h.on_chunk(value)
    end
  end
  routes[work] = function(value)
    if type(value) == 'table' and h.on_progress then
      h.on_progress(value)
    end
  end
  local finished = false
  local function finish(err, result)
    if finished then
      return
    end
    finished = true
    routes[partial] = nil
    routes[work] = nil
    h.on_done(err, result)
  end
  local ok, request_id = M.call(client, 'request', 'lore/ask', params, function(err, result)
    finish(err, result)
  end, bufnr)
  if not ok then
    finish({ message = 'the lore server is not running' })
    return function() end
  end
  return function()
    if not finished then
      M.call(client, 'cancel_request', request_id)
    end
  end
end

-- M.request sends any request; fn(err, result).
function M.request(client, method, params, fn, bufnr)
  local ok = M.call(client, 'request', method, params, function(err, result)
    fn(err, result)
  end, bufnr)
  if not ok then
    fn({ message = 'the lore server is not running' })
  end
end

-- M.roots lists the roots with a client.
function M.roots()
  local out = {}
  for root, id in pairs(roots) do
    if live(id) then
      out[root] = id
    end
  end
  return out
end

return M
