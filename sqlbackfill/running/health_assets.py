"""The stylesheet and script of the partition health page (inlined: the page works from file:// offline)."""

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 4px}
.meta{color:#666;font-size:12px}
.legend span,.filters label{margin-right:12px;white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.bar{display:flex;gap:1px;height:28px;margin:6px 0;align-items:stretch}
.cell{flex:1 1 0;min-width:2px;cursor:pointer;border-radius:1px}
.cell.dim{opacity:.15}
.cell.sel{outline:2px solid #222;outline-offset:-1px}
.axis{display:flex;justify-content:space-between;color:#666;font-size:11px;margin-top:-4px}
.zoom .bar{height:20px}
.detail{font:12px/1.4 ui-monospace,monospace;background:#f6f6f6;padding:6px 8px;white-space:pre-wrap;display:none}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}
"""

SCRIPT = """
(function(){
const COLOURS=JSON.parse(document.getElementById('sqlbackfill-colours').textContent);
const DATA=JSON.parse(document.getElementById('sqlbackfill-data').textContent);
const NAMES=Object.keys(COLOURS);
function gradient(counts){
  const total=NAMES.reduce((n,s)=>n+(counts[s]||0),0)||1;let at=0;const stops=[];
  for(const s of NAMES){const n=counts[s]||0;if(!n)continue;const end=at+100*n/total;
    stops.push(COLOURS[s]+' '+at.toFixed(2)+'% '+end.toFixed(2)+'%');at=end;}
  return stops.length?'linear-gradient(to top,'+stops.join(',')+')':'#eee';
}
function describe(el){
  const c=JSON.parse(el.dataset.counts);const parts=NAMES.filter(s=>c[s]).map(s=>s+' '+c[s]);
  return (el.dataset.firstKey===el.dataset.lastKey?el.dataset.firstKey:el.dataset.firstKey+' … '+el.dataset.lastKey)
    +'\\n'+parts.join(', ')+(el.dataset.info?'\\n'+el.dataset.info:'');
}
function paint(el){el.style.background=gradient(JSON.parse(el.dataset.counts));el.title=describe(el);}
function keyAt(m,i){return m.keys[i];}
function zoom(model,lo,hi){
  const m=DATA[model];const box=document.querySelector('[data-zoom-of="'+CSS.escape(model)+'"]');
  const bar=box.querySelector('.bar');bar.textContent='';const n=hi-lo;const cells=Math.min(n,400);
  for(let c=0;c<cells;c++){
    const a=lo+Math.floor(c*n/cells),b=lo+Math.floor((c+1)*n/cells);const counts={};let first=null,more=0;
    for(let i=a;i<b;i++){const s=m.codes[m.statuses[i]];counts[s]=(counts[s]||0)+1;
      if(m.errors[i]!==undefined){if(first===null)first=(b-a>1?keyAt(m,i)+': ':'')+m.messages[m.errors[i]];else more++;}}
    const z=document.createElement('div');z.className='cell';z.dataset.zoom='1';z.dataset.lo=a;z.dataset.hi=b;
    z.dataset.firstKey=keyAt(m,a);z.dataset.lastKey=keyAt(m,b-1);z.dataset.counts=JSON.stringify(counts);
    if(first!==null)z.dataset.info='error '+first+(more?' (and '+more+' more)':'');
    paint(z);bar.appendChild(z);
  }
  const per=n/cells;
  const unit=per===1?'one partition':Number.isInteger(per)?per+' partitions':Math.floor(per)+'–'+Math.ceil(per)+' partitions';
  box.style.display='block';
  box.querySelector('.what').textContent='zoom: '+keyAt(m,lo)+' … '+keyAt(m,hi-1)+' ('+n+' partitions, one cell = '+unit+')';
  filter();
}
function unzoom(section){
  section.querySelector('.zoom').style.display='none';
  section.querySelectorAll('.sel').forEach(c=>c.classList.remove('sel'));
}
function show(el){
  const section=el.closest('[data-model]');const d=section.querySelector('.detail');
  el.parentElement.querySelectorAll('.sel').forEach(c=>c.classList.remove('sel'));el.classList.add('sel');
  d.textContent=describe(el);d.style.display='block';
  const lo=+el.dataset.lo,hi=+el.dataset.hi;
  // A range zooms in; a single partition only shows its details (a zoomed one keeps the zoom around it).
  if(hi-lo>1&&DATA[section.dataset.model].keys)zoom(section.dataset.model,lo,hi);
  else if(!el.dataset.zoom)section.querySelector('.zoom').style.display='none';
}
document.querySelectorAll('.cell').forEach(paint);
// Whole-range cells and zoomed ones alike: a click details the cell and zooms into its range.
document.querySelectorAll('[data-model] .bar').forEach(bar=>bar.addEventListener('click',e=>{
  const el=e.target.closest('.cell');if(el)show(el);
}));
document.querySelectorAll('[data-model] .unzoom').forEach(b=>b.addEventListener('click',()=>{
  const section=b.closest('[data-model]');unzoom(section);section.querySelector('.detail').style.display='none';
}));
function filter(){
  const on=[...document.querySelectorAll('.filters input:checked')].map(i=>i.value);
  document.querySelectorAll('.cell').forEach(el=>{const c=JSON.parse(el.dataset.counts);
    el.classList.toggle('dim',!on.some(s=>c[s]));});
}
document.querySelectorAll('.filters input').forEach(i=>i.addEventListener('change',filter));
})();
"""
