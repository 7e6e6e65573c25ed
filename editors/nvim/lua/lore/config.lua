-- Options of require('lore').setup{}; see :help lore-options.
local M = {}

M.defaults = {
  -- The server: lore's LSP bridge over stdio.
  cmd = { 'lore', 'lsp' },
  -- nil: attach every file buffer inside a repository; a list of filetypes
  -- limits the buffers that are attached (questions work from any buffer).
  filetypes = nil,
  -- nil: the nearest folder upward with a .git entry; a string is a fixed
  -- root, a function(path, bufnr) returns the root or nil.
  root_dir = nil,
  -- Upper bound on the tokens of an answer (nil: the server's default).
  max_tokens = nil,
  -- Offer lore's hover (an answer per hover: slow); off by default.
  hover = false,
  -- Extra environment of the server, e.g. { LORE_MODEL = '/models/m.gguf' }.
  env = nil,
  -- The answer window.
  float = {
    border = 'rounded',
    width = 0.8, -- a fraction of the editor (<= 1) or columns
    height = 0.6, -- the most lines, as a fraction of the editor or lines
    max_width = 110,
    enter = true, -- move the cursor into the window
    winblend = 0,
  },
  -- The planning session that :LorePlan continues.
  plan_session = 'plan',
  -- The question of the "Explain" code action when the server sends none.
  explain_question = 'Explain what this code does and how it fits in the repository.',
  -- Start the server when a buffer of a repository is opened.
  autostart = true,
  -- Called as on_attach(client, bufnr) when lore attaches a buffer.
  on_attach = nil,
  -- Ask before applying the edits of :LoreGenerate (workspace/applyEdit).
  confirm_edits = true,
}

M.options = vim.deepcopy(M.defaults)

-- The types each option may have.
local types = {
  cmd = { table = true },
  filetypes = { table = true },
  root_dir = { string = true, ['function'] = true },
  max_tokens = { number = true },
  hover = { boolean = true },
  env = { table = true },
  float = { table = true },
  plan_session = { string = true },
  explain_question = { string = true },
  autostart = { boolean = true },
  on_attach = { ['function'] = true },
  confirm_edits = { boolean = true },
}

-- Lists replace the defaults instead of being merged index by index.
local replace = { cmd = true, filetypes = true }

function M.set(opts)
  opts = opts or {}
  for key, v in pairs(opts) do
    local want = types[key]
    if not want then
      vim.notify(string.format('lore: unknown option %q (see :help lore-options)', tostring(key)), vim.log.levels.WARN)
    elseif not want[type(v)] then
      error(string.format('lore: option %s is a %s, want %s', key, type(v), table.concat(vim.tbl_keys(want), ' or ')), 2)
    end
  end
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  for k in pairs(replace) do
    if opts[k] ~= nil then
      merged[k] = opts[k]
    end
  end
  M.options = merged
  return merged
end

return M
