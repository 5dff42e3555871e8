-- Marginalia's driver for pandoc's citeproc, run as a pandoc custom writer:
--   pandoc -f markdown -t citeproc-driver.lua -M marginalia-job=JOB.json < /dev/null
-- The job (written by citations/engine.py) names the CSL-JSON file, the style, the
-- language and what to render. Everything is rendered in one pandoc process: the
-- bibliography, or rounds of notes (each round its own citeproc run so that every
-- citation gets a first, full note), or only the style's sort order.
-- Output is JSON: {"ids": [...], "text": "<sections separated by sentinel paragraphs>"}.
-- Sections are written in ONE pandoc.write call per job, because a write per entry costs
-- about five times as much for a 10,000-entry bibliography.

local function read_job(doc)
  local path = pandoc.utils.stringify(doc.meta['marginalia-job'])
  local handle = assert(io.open(path, 'r'))
  local job = pandoc.json.decode(handle:read('a'), false)
  handle:close()
  return job
end

local function words(text)
  -- Plain text to inlines: words and spaces, never parsed as Markdown.
  local inlines = pandoc.Inlines({})
  for word in string.gmatch(text or '', '%S+') do
    if #inlines > 0 then inlines:insert(pandoc.Space()) end
    inlines:insert(pandoc.Str(word))
  end
  return inlines
end

local function citation(entry)
  return pandoc.Citation(entry.id, 'NormalCitation', words(entry.prefix), words(entry.suffix))
end

local function cite_para(entry)
  return pandoc.Para({pandoc.Cite(pandoc.Inlines({}), {citation(entry)})})
end

local function run_citeproc(job, blocks, nocite_ids)
  local nocite = pandoc.List({})
  for _, id in ipairs(nocite_ids) do
    nocite:insert(pandoc.Citation(id, 'NormalCitation'))
  end
  local meta = {
    bibliography = job.bibliography,
    csl = job.csl,
    lang = job.lang,
    ['link-citations'] = false,
    ['suppress-bibliography'] = false,
    nocite = pandoc.Inlines({pandoc.Cite(pandoc.Inlines({}), nocite)}),
  }
  return pandoc.utils.citeproc(pandoc.Pandoc(blocks, meta))
end

local function as_plain(blocks)
  -- One paragraph per entry in every format: no <p> inside an entry.
  return pandoc.Blocks(blocks):walk({Para = function(p) return pandoc.Plain(p.content) end})
end

local function bibliography_entries(doc)
  local entries = pandoc.List({})
  doc.blocks:walk({
    Div = function(div)
      if div.classes:includes('csl-entry') then
        entries:insert({id = div.identifier:gsub('^ref%-', ''), blocks = div.content})
      end
    end,
  })
  return entries
end

local function cite_renderings(doc)
  local rendered = pandoc.List({})
  doc.blocks:walk({
    Cite = function(cite)
      local content = cite.content
      if #content == 1 and content[1].t == 'Note' then
        rendered:insert({id = cite.citations[1].id, blocks = content[1].content})
      else
        rendered:insert({id = cite.citations[1].id, blocks = {pandoc.Plain(content)}})
      end
    end,
  })
  return rendered
end

local function notes_sections(job)
  -- Each round cites every citation once: full note, a spacer, then the short note.
  -- The spacer keeps the short note from becoming "Ibid." while it stays a near note.
  local sections = pandoc.List({})
  local spacer = {id = job.spacer}
  for _, round in ipairs(job.rounds) do
    local blocks = pandoc.Blocks({})
    for _, entry in ipairs(round) do
      blocks:extend({cite_para(entry), cite_para(spacer), cite_para(entry)})
    end
    for _, r in ipairs(cite_renderings(run_citeproc(job, blocks, job.ids))) do
      if r.id ~= job.spacer then sections:insert(r) end
    end
  end
  return sections
end

local function write_sections(job, sections)
  local blocks = pandoc.Blocks({})
  for i, section in ipairs(sections) do
    blocks:insert(pandoc.Para({pandoc.Str(job.sentinel .. tostring(i))}))
    blocks:extend(as_plain(section.blocks))
  end
  return pandoc.write(pandoc.Pandoc(blocks), job.format, {wrap_text = 'none'})
end

function Writer(doc, opts)
  local job = read_job(doc)
  local sections
  if job.mode == 'notes' then
    sections = notes_sections(job)
  else
    sections = bibliography_entries(run_citeproc(job, {}, job.ids))
  end
  local ids = sections:map(function(s) return s.id end)
  local text = ''
  if job.mode ~= 'order' then text = write_sections(job, sections) end
  return pandoc.json.encode({ids = ids, text = text})
end
